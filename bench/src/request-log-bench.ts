/**
 * npm run bench:log [-- --quick] [-- --json]
 *
 * What the gateway's request log costs on a response's path, per line: the time the request-log
 * middleware spends in logger(line) (what follows is pino's asynchronous write, off that path),
 * against the baseline measured in the same run — the hand-written logger fn had before pino
 * (JSON.stringify with a timestamp and a synchronous write to a file, as process.stdout.write to a
 * file or a terminal is). Both write to /dev/null, so the device costs nothing and the figures are
 * the logger's own. Rounds alternate between the two, and each reports its median.
 */
import { openSync, writeSync } from 'node:fs';
import { createLogger, lineLogger } from '@fn/telemetry';
import pino from 'pino';
import { median, round } from './stats.js';
import { parseBenchArgs, progress, report } from './report.js';

const args = parseBenchArgs(process.argv.slice(2));
const LINES = args.quick ? 20_000 : 100_000;
const ROUNDS = args.quick ? 5 : 11;
const BATCH = 50;

const devNull = openSync('/dev/null', 'w');
const handWritten = (line: Record<string, unknown>): void => {
  writeSync(devNull, `${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
};
const destination = pino.destination({ dest: devNull, sync: false });
const withPino = lineLogger(createLogger({ level: 'info', destination }));

const requestLine = (i: number) => ({
  level: 'info',
  msg: 'request',
  requestId: '2d363187-4ad0-4e9d-a594-8fe6e46f0ce8',
  method: 'GET',
  path: '/fn/default/hello',
  status: 200,
  durationMs: 1.234 + i / 1e6,
  tenant: 'default',
  invocationId: '2d363187-4ad0-4e9d-a594-8fe6e46f0ce8',
  traceId: '0af7651916cd43dd8448eb211c80319c',
});

/**
 * Microseconds per line spent inside logger(line). Lines go in batches of BATCH with a turn of the
 * event loop between them (untimed), as between requests: pino's writes then happen as they would
 * under traffic, instead of 100 000 lines piling up in its buffer within one synchronous loop.
 */
async function round1(logger: (line: Record<string, unknown>) => void): Promise<number> {
  let ns = 0n;
  for (let i = 0; i < LINES; i += BATCH) {
    const started = process.hrtime.bigint();
    for (let j = i; j < i + BATCH; j++) logger(requestLine(j));
    ns += process.hrtime.bigint() - started;
    await new Promise<void>((done) => setImmediate(done));
  }
  destination.flushSync();
  return Number(ns) / 1000 / LINES;
}

async function main(): Promise<void> {
  progress(`${ROUNDS} rounds of ${LINES} request lines each, alternating the two loggers, to /dev/null`);
  const samples = { handWritten: [] as number[], pino: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    samples.handWritten.push(await round1(handWritten));
    samples.pino.push(await round1(withPino));
  }
  destination.flushSync();
  const hand = median(samples.handWritten);
  const pinoUs = median(samples.pino);
  report(
    'request-log',
    { hand_written_us_per_line: round(hand, 3), pino_us_per_line: round(pinoUs, 3), pino_over_hand_written: round(pinoUs / hand, 3) },
    {
      hand_written_us_per_line: 'before pino: JSON.stringify + a synchronous write, inside the request',
      pino_us_per_line: 'pino with redaction: serialising in the request, the write asynchronous after it',
    },
    args,
  );
}

await main();
