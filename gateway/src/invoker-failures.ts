/**
 * The failures an invoker (scheduler → worker → VM) or a deployer may throw, recognised by `name`
 * and fields rather than by class: the classes belong to @fn/scheduler, @fn/worker and @fn/vmm,
 * which the gateway does not import (and a second copy of a module would break instanceof anyway).
 *
 *   OverloadedError { retryAfterSeconds, scope }   (scheduler)   → overloaded   (429 + Retry-After)
 *   GuestTimeoutError (vmm), WorkerTimeoutError (scheduler),
 *     VmmHostTimeoutError (worker), InvocationTimeoutError, TimeoutError,
 *     DeadlineExceededError (the gateway's own)                 → timeout      (504)
 *   GuestCrashedError, GuestOutOfMemoryError (vmm)               → crashed      (500)
 *   NoWorkersError, WorkerUnavailableError, WorkerFailedError,
 *     SchedulerClosedError (scheduler); VmLostError,
 *     WorkerAtCapacityError, VmmHostCrashedError, VmmHostStartError,
 *     WorkerClosedError (worker); KvmUnavailableError (vmm);
 *     UnavailableError, ServiceUnavailableError { retryAfterSeconds? },
 *     NoRespondersError, BusTimeoutError (the bus: no scheduler)  → unavailable (503)
 *   GuestLoadError, InvalidInputError, BundleError               → bad input    (400; at deploy)
 *   PayloadTooLargeError                                         → too large    (413)
 *
 * A timeout is 504 even where the scheduler's own comment says "the rest → 503": WorkerTimeoutError
 * means the function was taken and no answer came in time, which is what 504 says. A VMM host
 * crash is 503, not the function's 500: the process holding many VMs died, and a retry lands on a
 * fresh host.
 */

/** The scheduler's OverloadedError, as far as the gateway needs to know it. */
export interface OverloadedShape {
  name: 'OverloadedError';
  retryAfterSeconds: number;
  scope?: string;
}

export type Failure =
  | { kind: 'overloaded'; retryAfterSeconds: number; scope?: string | undefined }
  | { kind: 'timeout' }
  | { kind: 'crashed'; outOfMemory: boolean }
  | { kind: 'unavailable'; retryAfterSeconds?: number | undefined }
  | { kind: 'bad-input' }
  | { kind: 'too-large' };

const TIMEOUT = new Set(['GuestTimeoutError', 'WorkerTimeoutError', 'VmmHostTimeoutError', 'InvocationTimeoutError', 'TimeoutError', 'DeadlineExceededError']);
const CRASHED = new Set(['GuestCrashedError', 'GuestOutOfMemoryError']);
const UNAVAILABLE = new Set([
  'NoWorkersError',
  'WorkerUnavailableError',
  'WorkerFailedError',
  'SchedulerClosedError',
  'VmLostError',
  'WorkerAtCapacityError',
  'VmmHostCrashedError',
  'VmmHostStartError',
  'WorkerClosedError',
  'KvmUnavailableError',
  'UnavailableError',
  'ServiceUnavailableError',
  // The bus itself: nothing serves the scheduler's subject, or it did not answer in time.
  'NoRespondersError',
  'BusTimeoutError',
]);
const BAD_INPUT = new Set(['GuestLoadError', 'InvalidInputError', 'BundleError']);

/** The failure kind of a thrown value, or null for anything else (an unexpected error: 500). */
export function classifyFailure(error: unknown): Failure | null {
  if (typeof error !== 'object' || error === null) return null;
  const { name, retryAfterSeconds, scope } = error as { name?: unknown; retryAfterSeconds?: unknown; scope?: unknown };
  if (typeof name !== 'string') return null;
  if (name === 'OverloadedError') {
    return { kind: 'overloaded', retryAfterSeconds: wholeSeconds(retryAfterSeconds) ?? 1, scope: typeof scope === 'string' ? scope : undefined };
  }
  if (TIMEOUT.has(name)) return { kind: 'timeout' };
  if (CRASHED.has(name)) return { kind: 'crashed', outOfMemory: name === 'GuestOutOfMemoryError' };
  if (UNAVAILABLE.has(name)) return { kind: 'unavailable', retryAfterSeconds: wholeSeconds(retryAfterSeconds) };
  if (BAD_INPUT.has(name)) return { kind: 'bad-input' };
  if (name === 'PayloadTooLargeError') return { kind: 'too-large' };
  return null;
}

/** Retry-After takes whole seconds; round up so a client never retries early. */
function wholeSeconds(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  return Math.max(1, Math.ceil(value));
}
