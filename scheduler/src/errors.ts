/**
 * One error class per way the scheduler refuses or fails an invocation. Each has a stable `code`;
 * the gateway maps OverloadedError to 429 with Retry-After and the rest to 503 — nothing here
 * knows about HTTP. Over the bus they arrive as RemoteError; SchedulerClient rebuilds them.
 */

export class SchedulerError extends Error {
  override name = 'SchedulerError';
}

export type OverloadScope = 'function' | 'tenant' | 'platform';

/** Too many invocations already running or queued: try again after `retryAfterSeconds`. */
export class OverloadedError extends SchedulerError {
  override name = 'OverloadedError';
  readonly code = 'overloaded';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly scope: OverloadScope,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No worker has reported capacity recently enough to be trusted. */
export class NoWorkersError extends SchedulerError {
  override name = 'NoWorkersError';
  readonly code = 'no_workers';
}

/** Every worker tried (at most two) declined, was gone, or did not answer the claim. Nothing ran. */
export class WorkerUnavailableError extends SchedulerError {
  override name = 'WorkerUnavailableError';
  readonly code = 'worker_unavailable';
}

/** A worker took the invocation but gave no answer in time; it may or may not have run. */
export class WorkerTimeoutError extends SchedulerError {
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

/** A worker took the invocation and then failed it (its handler threw, or its reply broke the contract). */
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
export class SchedulerClosedError extends SchedulerError {
  override name = 'SchedulerClosedError';
  readonly code = 'scheduler_closed';
}
