export { SqliteAsyncQueue, ASYNC_DB_FILE } from './sqlite-queue.js';
export { JetStreamAsyncQueue } from './jetstream-queue.js';

/** How asynchronous invocations are run (runner.ts in @fn/gateway has the defaults). */
export interface AsyncOptions {
  /** Invocations in flight per runner (default 8). */
  concurrency?: number;
  /** Retries of a retryable failure (default 2). */
  maxRetries?: number;
  /** First retry delay, doubled each time (default 1 s). */
  backoffMs?: number;
}
