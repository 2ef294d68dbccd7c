/**
 * One error class per failure kind of the worker and its VMM hosts. Every message says what
 * happened and what to do; `cause` keeps the underlying error. Errors of the VM itself
 * (GuestTimeoutError, GuestOutOfMemoryError, …) come from @fn/vmm and keep their classes across
 * the host boundary (see vmm-host/wire-errors.ts). Only the gateway maps errors to HTTP statuses.
 *
 * Those an invocation can end with extend the invocation contract's kinds: a host that died, a
 * VM that vanished or a full worker is `unavailable` (retry: nothing of the function's doing); a
 * host that stopped answering is a `timeout`. The rest are bugs, and stay without a kind.
 */
import { InvocationTimeoutError, UnavailableError } from '@fn/contract';

export class WorkerError extends Error {
  override name = 'WorkerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A VMM host process died (or was killed) while calls were in flight: its VMs are gone. */
export class VmmHostCrashedError extends UnavailableError {
  override name = 'VmmHostCrashedError';
  constructor(
    readonly pid: number,
    readonly how: string,
    options?: { cause?: unknown },
  ) {
    super(
      `the VMM host process (pid ${pid}) ${how}; the microVMs it held are gone and calls in flight on it failed — retry the invocation: the worker replaces the host and rebuilds its pools`,
      options,
    );
  }
}

/** A VMM host process could not be started or did not signal readiness in time. */
export class VmmHostStartError extends UnavailableError {
  override name = 'VmmHostStartError';
}

/** A VMM host did not answer a call in time; it is presumed wedged and is killed. */
export class VmmHostTimeoutError extends InvocationTimeoutError {
  override name = 'VmmHostTimeoutError';
  constructor(
    readonly pid: number,
    readonly op: string,
    readonly timeoutMs: number,
  ) {
    super(
      `the VMM host process (pid ${pid}) did not answer "${op}" within ${timeoutMs} ms and was killed — retry; if it keeps happening the machine is overloaded`,
    );
  }
}

/**
 * A message across the worker ↔ VMM host channel broke the protocol (failed validation). The host
 * refuses such a request; the worker kills a host that sends such a reply (it cannot be trusted).
 */
export class VmmHostProtocolError extends WorkerError {
  override name = 'VmmHostProtocolError';
}

/** The VM picked for an invocation was already gone before the invocation started (safe to retry). */
export class VmLostError extends UnavailableError {
  override name = 'VmLostError';
}

/** No VM could be placed: the memory budget is full of busy VMs and nothing idle can be evicted. */
export class WorkerAtCapacityError extends UnavailableError {
  override name = 'WorkerAtCapacityError';
  constructor(readonly detail: string) {
    super(`the worker is at capacity (${detail}) — send the invocation to another worker or retry later`);
  }
}

/** One pool key must always mean the same function version: same snapshot, same timeout. */
export class PoolConfigMismatchError extends WorkerError {
  override name = 'PoolConfigMismatchError';
}

/** The worker (or a pool) was closed. */
export class WorkerClosedError extends UnavailableError {
  override name = 'WorkerClosedError';
  constructor() {
    super('the worker is closed — create a new Worker');
  }
}

/**
 * A stored snapshot was made by another build of the runtime (guest ELF or VMM) than the one this
 * worker runs: its memory holds the other build's code and layout, so it is not restored. The
 * deployer rebuilds a function snapshot from its bundle; a base cannot be rebuilt in place.
 */
export class RuntimeMismatchError extends WorkerError {
  override name = 'RuntimeMismatchError';
  constructor(
    readonly digest: string,
    readonly madeBy: string | undefined,
    readonly running: string,
    options: { cause?: unknown; bundleMissing?: boolean } = {},
  ) {
    const what = `snapshot ${digest} was made by runtime build ${madeBy ?? '(unrecorded: made before builds were recorded)'}, but this worker runs build ${running}: it is not restored`;
    super(
      options.bundleMissing
        ? `${what}, and its function's bundle is not in the store to rebuild it from — deploy the function again`
        : `${what} — deploy the function again (the platform rebuilds a function snapshot from its bundle by itself; a base is remade by the next deploy)`,
      { cause: options.cause },
    );
  }
}

/** A deploy's init (its module's top-level code) ran past the deploy's own init budget. */
export class DeployInitTimeoutError extends InvocationTimeoutError {
  override name = 'DeployInitTimeoutError';
  constructor(
    readonly initTimeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `the function's init (its module's top-level code) ran longer than the ${initTimeoutMs} ms a deploy allows and was stopped — move slow work out of module init, into the handler`,
      options,
    );
  }
}

/** Nobody waits for the deploy any more (its client went away, or the gateway's deadline passed). */
export class DeployCancelledError extends UnavailableError {
  override name = 'DeployCancelledError';
  constructor(what: string, options?: { cause?: unknown }) {
    super(
      `the deploy of ${what} was cancelled because nobody waits for it any more (the client went away or its deadline passed); its VM was stopped and nothing was stored — deploy again`,
      options,
    );
  }
}
