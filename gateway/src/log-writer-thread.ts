/**
 * The invocation log writer, on a thread of its own (started by threaded-log-sink.ts). Storing a
 * batch of records means zod checks, SQLite inserts and, with synchronous = FULL, an fsync: on the
 * gateway's event loop that is ~0.1 ms per invocation and a several-millisecond stall per batch,
 * which every request behind it waits out. Here it costs the event loop nothing. The thread has
 * its own connection to the data directory's database (WAL: the gateway's reads never wait for it),
 * opened for appending logs only (LogAppender: no migrations, no retention, no secrets key).
 *
 * Batching is natural: records that arrive while a batch is being stored go into the next one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LogAppender, type AppendLogInput } from '@fn/registry';
import type { Logger } from './deps.js';
import { appendBatch } from './log-sink.js';
import type { ToLogWriter, FromLogWriter } from './log-writer-protocol.js';

const port = parentPort;
if (!port) throw new Error('log-writer-thread.js runs as a worker thread (see threaded-log-sink.ts)');

const { dataDir } = workerData as { dataDir: string };
// Only the log table: the gateway's own Registry migrated the directory and runs retention.
const logs = LogAppender.open(dataDir);
const send = (message: FromLogWriter): void => port.postMessage(message);
const logger: Logger = (line) => send({ log: line });

let pending: AppendLogInput[] = [];
let lastBatch = -1;
let scheduled = false;

const write = (): void => {
  scheduled = false;
  const records = pending;
  pending = [];
  appendBatch(logs, records, logger);
  send({ storedUpTo: lastBatch });
};

port.on('message', (message: ToLogWriter) => {
  if ('batch' in message) {
    for (const record of message.records) pending.push(record);
    lastBatch = message.batch;
    if (!scheduled) {
      scheduled = true;
      setImmediate(write);
    }
  } else {
    write();
    logs.close();
    send({ closed: true });
    port.close();
  }
});
