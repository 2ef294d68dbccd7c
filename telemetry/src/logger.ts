/**
 * The one logger of every fn process (gateway, scheduler, worker, VMM host): pino, writing one JSON
 * line per event to stdout through an asynchronous destination (the write happens after the
 * response, off its path; pino flushes what is left when the process exits).
 *
 * Lines keep the shape fn has always written — {"level":"info","time":"<ISO>","msg":...,fields} —
 * so `fn up` output and whatever reads it keep working. Keys, secrets, authorization and cookie
 * headers and env values never reach the output: redaction.ts says which fields are censored.
 */
import pino, { type DestinationStream, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { redactObject } from './redaction.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Default: FN_LOG_LEVEL, else 'info'. `debug` adds a line per invocation in every hop. */
  level?: LevelWithSilent;
  /** Fields on every line (which process wrote it, say). */
  base?: Record<string, unknown>;
  /** Default: stdout, asynchronously. Tests pass a stream they read back. */
  destination?: DestinationStream;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** FN_LOG_LEVEL when it names a level, else 'info'. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const level = env.FN_LOG_LEVEL?.trim().toLowerCase();
  return level && LEVELS.has(level) ? (level as LevelWithSilent) : 'info';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? levelFromEnv(),
      base: options.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      // Every line passes the redaction walk (redaction.ts), and the root's bindings. pino does not
      // run child bindings through it: children get ids only (invocationId, traceId), never values.
      formatters: { level: (label) => ({ level: label }), log: redactObject, bindings: redactObject },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

let processLogger: Logger | undefined;

/** This process's logger (stdout, FN_LOG_LEVEL), made on first use. */
export function rootLogger(): Logger {
  processLogger ??= createLogger();
  return processLogger;
}

/** One structured line as fn's components pass them around: a level, a message and fields. */
export type LogLineFields = Record<string, unknown>;
export type LineLogger = (line: LogLineFields) => void;

/**
 * The function form fn's components take (`logger({ level: 'warn', msg: '…', … })`), over a pino
 * logger: the line's `level` picks the pino method, `msg` becomes the message.
 */
export function lineLogger(logger: Logger): LineLogger {
  return (line) => {
    const { level, msg, ...fields } = line;
    const method = typeof level === 'string' && level in LEVEL_METHODS ? (level as keyof typeof LEVEL_METHODS) : 'info';
    if (!logger.isLevelEnabled(method)) return;
    logger[method](fields, typeof msg === 'string' ? msg : '');
  };
}

const LEVEL_METHODS = { fatal: 1, error: 1, warn: 1, info: 1, debug: 1, trace: 1 } as const;
