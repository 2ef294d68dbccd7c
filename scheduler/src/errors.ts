/**
 * One error class per way the scheduler refuses or fails an invocation. Each has a stable `code`
 * and, where an invocation ends with it, a failure kind of the invocation contract (@fn/contract):
 * OverloadedError is the contract's own (overloaded), the "nothing could run it" errors are
 * unavailable, a worker that never answered is a timeout. Nothing here knows about HTTP: the
 * gateway maps kinds to statuses. Over the bus they arrive as RemoteError; SchedulerClient
 * rebuilds them.
 */
import { InvocationTimeoutError, OverloadedError, UnavailableError, type OverloadScope } from '@fn/contract';

export { OverloadedError, type OverloadScope };

export class SchedulerError extends Error {
  override name = 'SchedulerError';
}

/** No worker has reported capacity recently enough to be trusted. */
export class NoWorkersError extends UnavailableError {
  override name = 'NoWorkersError';
  readonly code = 'no_workers';
}

/** Every worker tried (at most two) declined, was gone, or did not answer the claim. Nothing ran. */
export class WorkerUnavailableError extends UnavailableError {
  override name = 'WorkerUnavailableError';
  readonly code = 'worker_unavailable';
}

/** A worker took the invocation but gave no answer in time; it may or may not have run. */
export class WorkerTimeoutError extends InvocationTimeoutError {
  override name = 'WorkerTimeoutError';
  readonly code = 'worker_timeout';
  constructor(
    message: string,
    readonly workerId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A worker took the invocation and failed it with an error of no failure kind: a bug in the worker,
 * or a reply that broke the contract. (A failure with a kind — the function's timeout, crash, a
 * bad response, a lost host — passes through the scheduler as it is.)
 */
export class WorkerFailedError extends SchedulerError {
  override name = 'WorkerFailedError';
  readonly code = 'worker_failed';
  constructor(
    message: string,
    readonly workerId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The scheduler was closed while the invocation waited in its queue. */
export class SchedulerClosedError extends UnavailableError {
  override name = 'SchedulerClosedError';
  readonly code = 'scheduler_closed';
}

/**
 * The worker running the invocation stopped reporting (it died, or its machine or network did)
 * before it answered. The invocation may have run; it is not retried.
 */
export class WorkerLostError extends UnavailableError {
  override name = 'WorkerLostError';
  readonly code = 'worker_lost';
  constructor(
    message: string,
    readonly workerId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    // Other workers can take a retry at once (the gateway sends it as Retry-After).
    this.retryAfterSeconds = 1;
  }
}

/** Nobody serves scheduler.invoke: the gateway's bus reaches no scheduler (none started, or NATS is down). */
export class NoSchedulerError extends UnavailableError {
  override name = 'NoSchedulerError';
  readonly code = 'no_scheduler';
}
