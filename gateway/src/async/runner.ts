/**
 * Runs queued invocations: takes deliveries from an AsyncQueue, invokes through the same Invoker
 * as a synchronous invocation (scheduler → worker), and writes the outcome to the record.
 *
 * Policy, the same for both queues:
 *   - An attempt that failed with a retryable kind (RETRYABLE: the platform's or the VM's trouble,
 *     not the function's answer) is tried again after backoffMs · 2^(attempt−1), up to maxRetries
 *     times (default 2: three attempts, as Lambda). Then the job goes to the dead-letter queue and
 *     the record says dead_lettered.
 *   - A function that threw (function_error), ran out of memory, answered outside the limits, or
 *     was deleted since, is a final `failed`: running it again would not change its answer, and
 *     retrying a handler that already did its side effects is what a caller can do knowingly.
 *   - A delivery whose runner died (never done nor retried) comes back by itself and counts as an
 *     attempt: one past the last is dead-lettered without running.
 *   - A final record is never overwritten (update() refuses when the record is final): a duplicate
 *     delivery of a finished job finds it so and is dropped. The record is written before the job
 *     leaves the queue, so a crash in between costs a duplicate delivery, never a lost result.
 *
 * Env vars and secrets are read from the registry when the attempt runs, never stored in the
 * queue: secrets stay encrypted at rest, as for a synchronous invocation.
 */
import { failureKind, type FailureKind } from '@fn/contract';
import type { RegistryApi as Registry } from '@fn/registry';
import { withDeadline } from '../deadline.js';
import type { InvokeResult, Invoker, Logger } from '../deps.js';
import { toLogLines, type LogSink } from '../log-sink.js';
import { failureStatus } from '../routes/invoke.js';
import { FINAL_STATUSES, type AsyncJob, type AsyncQueue, type Delivery, type InvocationRecord } from './queue.js';

/** Kinds worth another attempt: the invocation did not get to answer for reasons outside the function's code. */
export const RETRYABLE: ReadonlySet<FailureKind> = new Set(['crashed', 'unavailable', 'overloaded', 'timeout']);

export interface RunnerOptions {
  queue: AsyncQueue;
  invoker: Invoker;
  registry: Registry;
  logSink: LogSink;
  logger: Logger;
  /** Invocations this runner has in flight at most (default 8). */
  concurrency?: number;
  /** Retries after the first attempt for retryable failures (default 2). */
  maxRetries?: number;
  /** The first retry's delay; each next one doubles it (default 1 s). */
  backoffMs?: number;
  /** Waiting beyond the function's timeout before an attempt counts as timed out (default 30 s). */
  graceMs?: number;
  /** How often a running attempt tells the queue it is alive (default 5 s; JetStream's ack wait is 30 s). */
  workingEveryMs?: number;
}

export class AsyncRunner {
  private stopped = false;
  /** The queue failed and nobody has been told yet since it last worked (one warning per outage, not one per loop and second). */
  private queueDown = false;
  /** Attempts running now: close() waits for these, not for loops idling in next(). */
  private readonly running = new Set<Promise<void>>();
  private readonly maxRetries: number;
  private readonly backoffMs: number;

  constructor(private readonly options: RunnerOptions) {
    this.maxRetries = options.maxRetries ?? 2;
    this.backoffMs = options.backoffMs ?? 1_000;
  }

  start(): this {
    for (let i = 0; i < (this.options.concurrency ?? 8); i++) void this.loop();
    return this;
  }

  /**
   * Takes no new deliveries and waits for the running attempts. A loop still waiting in next()
   * is not waited for: what it receives after this is handed back at once (redelivered later).
   */
  async close(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running]);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let delivery: Delivery | undefined;
      try {
        delivery = await this.options.queue.next(1_000);
        this.queueDown = false;
      } catch (error) {
        // The queue is unreachable (NATS restarting): wait, do not spin. The jobs stay queued.
        if (this.stopped) return;
        if (!this.queueDown)
          this.options.logger({
            level: 'warn',
            msg: 'async queue: could not take the next invocation (retrying every second)',
            error: (error as Error).message,
          });
        this.queueDown = true;
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (!delivery) continue;
      try {
        await this.run(delivery);
      } catch (error) {
        // The record or the queue failed us mid-way: the delivery is redelivered (ack wait, or restart).
        this.options.logger({
          level: 'error',
          msg: 'async invocation: could not record its outcome',
          invocationId: delivery.job.id,
          error: (error as Error).message,
        });
      }
    }
  }

  private async run(delivery: Delivery): Promise<void> {
    const { queue } = this.options;
    const { job, attempt } = delivery;
    const maxAttempts = this.maxRetries + 1;
    const current = await queue.record(job.id);
    if (current && FINAL_STATUSES.has(current.status)) return delivery.done(); // a duplicate
    if (attempt > maxAttempts) {
      const message = `no result after ${maxAttempts} attempts: the process running it stopped each time`;
      return this.deadLetter(delivery, { kind: 'unavailable', message }, attempt - 1);
    }
    const now = Date.now();
    await queue.update(job.id, (r) =>
      r && FINAL_STATUSES.has(r.status) ? undefined : { ...(r ?? newRecord(job)), status: 'running', attempts: attempt, updatedAt: now },
    );

    let result: InvokeResult | undefined;
    let failure: unknown;
    const alive = setInterval(() => delivery.working(), this.options.workingEveryMs ?? 5_000);
    const called = performance.now();
    try {
      result = await this.invoke(job);
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(alive);
    }
    const elapsed = performance.now() - called;

    if (result) {
      const durationMs = result.timings.worker ?? elapsed;
      const lines = toLogLines(result.logs);
      if (result.error) {
        const { name, message } = result.error;
        this.log(job, 'error', durationMs, result.cold, [...lines, { level: 'error', message: `[fn] uncaught ${name}: ${message}`, ms: durationMs }]);
        return this.finish(delivery, { status: 'failed', error: { kind: 'function_error', message: `the function threw ${name}: ${message}` } });
      }
      this.log(job, 'ok', durationMs, result.cold, lines);
      const { status, headers, body } = result.response;
      return this.finish(delivery, { status: 'succeeded', result: { status, headers, bodyBase64: Buffer.from(body).toString('base64') } });
    }

    const kind = failureKind(failure) ?? (isNotFound(failure) ? 'not_found' : 'internal');
    const error = { kind, message: failure instanceof Error ? failure.message : String(failure) };
    this.log(job, failureStatus(failure), elapsed, false, [{ level: 'error', message: `[fn] attempt ${attempt}: ${error.message}`, ms: elapsed }]);
    if (!RETRYABLE.has(kind as FailureKind)) return this.finish(delivery, { status: 'failed', error });
    if (attempt >= maxAttempts) return this.deadLetter(delivery, error, attempt);
    const updated = await queue.update(job.id, (r) =>
      r && FINAL_STATUSES.has(r.status) ? undefined : { ...(r ?? newRecord(job)), status: 'queued', attempts: attempt, error, updatedAt: Date.now() },
    );
    if (updated && FINAL_STATUSES.has(updated.status)) return delivery.done();
    await delivery.retry(this.backoffMs * 2 ** (attempt - 1));
  }

  private async invoke(job: AsyncJob): Promise<InvokeResult> {
    const { registry, invoker } = this.options;
    // The version accepted at enqueue; its env and the function's secrets as they are now.
    const version = registry.functions.resolve(job.tenant, job.function, job.version);
    const env = registry.env.envForInvocation(job.tenant, job.function, version);
    return withDeadline(`async invocation ${job.id}`, job.limits.timeoutMs + (this.options.graceMs ?? 30_000), (signal) =>
      invoker.invoke({
        invocationId: job.id,
        tenant: job.tenant,
        function: job.function,
        version: job.version,
        snapshotKey: job.snapshotKey,
        env: { ...env },
        request: job.request,
        limits: job.limits,
        signal,
      }),
    );
  }

  private async finish(delivery: Delivery, outcome: Pick<InvocationRecord, 'status' | 'result' | 'error'>): Promise<void> {
    const now = Date.now();
    await this.options.queue.update(delivery.job.id, (r) => {
      if (r && FINAL_STATUSES.has(r.status)) return undefined; // create-only: the first final outcome stays
      const base = r ?? newRecord(delivery.job);
      return {
        ...base,
        ...outcome,
        attempts: Math.max(base.attempts, delivery.attempt),
        updatedAt: now,
        finishedAt: now,
        ...(outcome.error ? {} : { error: undefined }),
      };
    });
    await delivery.done();
  }

  private async deadLetter(delivery: Delivery, error: { kind: string; message: string }, attempts: number): Promise<void> {
    const now = Date.now();
    const record = await this.options.queue.update(delivery.job.id, (r) =>
      r && FINAL_STATUSES.has(r.status)
        ? undefined
        : { ...(r ?? newRecord(delivery.job)), status: 'dead_lettered', attempts, error, updatedAt: now, finishedAt: now },
    );
    if (record?.status === 'dead_lettered' && record.finishedAt === now) await this.options.queue.deadLetter(delivery.job, record);
    this.options.logger({
      level: 'warn',
      msg: 'async invocation dead-lettered',
      invocationId: delivery.job.id,
      function: delivery.job.function,
      attempts,
      error: error.message,
    });
    await delivery.done();
  }

  private log(
    job: AsyncJob,
    status: Parameters<LogSink['add']>[0]['status'],
    durationMs: number,
    cold: boolean,
    logs: Parameters<LogSink['add']>[0]['logs'],
  ): void {
    this.options.logSink.add({
      tenant: job.tenant,
      function: job.function,
      version: job.version,
      invocationId: job.id,
      status,
      durationMs,
      cold,
      logs,
      at: Date.now(),
    });
  }
}

export function newRecord(job: AsyncJob): InvocationRecord {
  return {
    id: job.id,
    tenant: job.tenant,
    function: job.function,
    version: job.version,
    status: 'queued',
    attempts: 0,
    createdAt: job.createdAt,
    updatedAt: job.createdAt,
  };
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'NotFoundError';
}
