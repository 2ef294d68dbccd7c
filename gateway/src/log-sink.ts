/**
 * Where invocation records go after each invocation. The default sink batches them into one
 * registry.logs.append per batch: with synchronous = FULL every append is an fsync (and
 * better-sqlite3 runs it on the event loop), so one per invocation would cost every request an
 * fsync under load; a batch pays one for many. Records are flushed when the batch is full,
 * after a short delay, before the logs route reads (so a caller reads its own invocations), and
 * on close.
 */
import type { AppendLogInput, LogLine, RegistryApi as Registry } from '@fn/registry';
import type { InvokeResult, Logger } from './deps.js';

export interface LogSink {
  add(record: AppendLogInput): void;
  /** Resolves once every record added so far is stored (or reported as dropped). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface BatchOptions {
  maxBatch?: number;
  maxDelayMs?: number;
}

export function registryLogSink(registry: Registry, logger: Logger, options: BatchOptions = {}): LogSink {
  const maxBatch = options.maxBatch ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 200;
  let pending: AppendLogInput[] = [];
  let timer: NodeJS.Timeout | undefined;

  const write = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    appendBatch(registry.logs, batch, logger);
  };

  return {
    add(record) {
      pending.push(record);
      if (pending.length >= maxBatch) write();
      // unref: a pending batch must not keep a stopping process alive (close() flushes it).
      else timer ??= setTimeout(write, maxDelayMs).unref();
    },
    async flush() {
      write();
    },
    async close() {
      write();
    },
  };
}

/**
 * Stores a batch in one transaction; one bad record (its tenant deleted meanwhile, say) fails the
 * transaction, so then the others are stored one by one and the bad one is reported as dropped.
 * Shared by this sink and the log writer thread (log-writer-thread.ts).
 */
export function appendBatch(logs: Pick<Registry['logs'], 'append'>, batch: AppendLogInput[], logger: Logger): void {
  if (batch.length === 0) return;
  try {
    logs.append(batch);
  } catch {
    for (const record of batch) {
      try {
        logs.append(record);
      } catch (error) {
        logger({
          level: 'warn',
          msg: 'invocation log record dropped',
          invocationId: record.invocationId,
          tenant: record.tenant,
          error: (error as Error).message,
        });
      }
    }
  }
}

const LEVELS = new Set(['debug', 'info', 'log', 'warn', 'error']);

/** The VM's console lines in the registry's shape (the VM also has `trace`; times are ≥ 0). */
export function toLogLines(logs: InvokeResult['logs']): LogLine[] {
  return logs.map((l) => ({
    level: (LEVELS.has(l.level) ? l.level : l.level === 'trace' ? 'debug' : 'log') as LogLine['level'],
    message: String(l.message),
    ms: Number.isFinite(l.ms) && l.ms > 0 ? l.ms : 0,
  }));
}
