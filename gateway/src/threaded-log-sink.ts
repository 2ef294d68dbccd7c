/**
 * A LogSink whose records are stored by a thread of its own (log-writer-thread.ts), so the fsync
 * of every batch never stalls the gateway's event loop. Records are handed over in numbered
 * batches (every BATCH_MS, or at once on flush), flush() resolves once the thread has stored
 * everything added before it, and close() also closes the thread's database connection.
 *
 * Should the thread fail (it cannot open the database, say), the sink says so and goes on with
 * the in-thread sink (log-sink.ts), starting with every batch the thread had not stored: slower,
 * but nothing is lost to the failure.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { AppendLogInput, RegistryApi as Registry } from '@fn/registry';
import type { Logger } from './deps.js';
import { registryLogSink, type LogSink } from './log-sink.js';
import type { FromLogWriter, ToLogWriter } from './log-writer-protocol.js';

/** How long records wait to be handed over together: one message per batch, not per invocation. */
const BATCH_MS = 50;

/**
 * The thread always runs the built JavaScript, resolved through this package's own exports, so
 * there is one way to start it whether the caller runs from dist/ or from sources under test.
 */
function threadScript(): string {
  return createRequire(import.meta.url).resolve('@fn/gateway/log-writer-thread');
}

export function threadedLogSink(registry: Registry, logger: Logger): LogSink {
  const worker = new Worker(threadScript(), { workerData: { dataDir: registry.dataDir } });
  worker.unref(); // like the timers of the in-thread sink: close() is what waits for the last batch
  let fallback: LogSink | undefined;
  let pending: AppendLogInput[] = [];
  let timer: NodeJS.Timeout | undefined;
  let nextBatch = 0;
  /** Handed over, not yet stored, by batch number (in order). */
  const unstored = new Map<number, AppendLogInput[]>();
  const whenStored: { batch: number; done: () => void }[] = [];
  let onClosed: (() => void) | undefined;
  let exited = false;

  const post = (message: ToLogWriter): void => worker.postMessage(message);
  const handOver = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const records = pending;
    pending = [];
    if (fallback) {
      for (const record of records) fallback.add(record);
      return;
    }
    const batch = nextBatch++;
    unstored.set(batch, records);
    post({ batch, records });
  };
  const stored = (upTo: number): void => {
    for (const batch of unstored.keys()) if (batch <= upTo) unstored.delete(batch);
    while (whenStored.length > 0 && whenStored[0]!.batch <= upTo) whenStored.shift()!.done();
  };
  const failOver = (error: Error): void => {
    if (fallback) return;
    logger({ level: 'error', msg: 'the invocation log writer thread failed; storing invocation logs on the main thread from now on', error: error.message });
    fallback = registryLogSink(registry, logger);
    for (const records of unstored.values()) for (const record of records) fallback.add(record);
    unstored.clear();
    handOver();
    void fallback.flush().then(() => stored(Number.POSITIVE_INFINITY));
  };

  worker.on('message', (message: FromLogWriter) => {
    if ('log' in message) logger(message.log);
    else if ('storedUpTo' in message) stored(message.storedUpTo);
    else onClosed?.();
  });
  worker.on('error', failOver);
  worker.on('exit', () => {
    exited = true;
    if (unstored.size > 0) failOver(new Error('the thread exited with batches not stored'));
    onClosed?.();
  });

  return {
    add(record) {
      pending.push(record);
      if (fallback) handOver();
      else timer ??= setTimeout(handOver, BATCH_MS).unref();
    },
    async flush() {
      handOver();
      if (fallback) return fallback.flush();
      if (unstored.size === 0) return;
      const last = nextBatch - 1;
      await new Promise<void>((done) => whenStored.push({ batch: last, done }));
    },
    async close() {
      handOver();
      if (!fallback && !exited) {
        await new Promise<void>((resolve) => {
          onClosed = resolve;
          post({ close: true });
        });
      }
      await worker.terminate();
      await fallback?.close();
    },
  };
}
