/**
 * The ways an invocation fails, one class per kind. Every layer throws these (or subclasses of
 * them: @fn/vmm's GuestTimeoutError is an InvocationTimeoutError) and every hop passes them on with
 * their kind intact; only the gateway turns a kind into an HTTP status, in one table.
 *
 *   function_error  the handler threw                         (the function's fault)
 *   timeout         it ran past its timeoutMs                  (the function's, or a stuck hop)
 *   out_of_memory   it used up its memoryMiB                   (the function's fault)
 *   crashed         its microVM died (fault, syscall, …)       (the function's or its runtime's)
 *   bad_response    it answered outside the limits             (the function's fault)
 *   overloaded      over a concurrency limit or queue          (retry after retryAfterSeconds)
 *   unavailable     the platform cannot run it right now       (retry later)
 *   too_large       the request is over the limits             (the caller's fault)
 */

export const FAILURE_KINDS = ['function_error', 'timeout', 'out_of_memory', 'crashed', 'bad_response', 'overloaded', 'unavailable', 'too_large'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

const KIND_SET: ReadonlySet<string> = new Set(FAILURE_KINDS);

export function isFailureKind(value: unknown): value is FailureKind {
  return typeof value === 'string' && KIND_SET.has(value);
}

export abstract class InvocationError extends Error {
  abstract readonly kind: FailureKind;
  override name = 'InvocationError';
}

/** The handler threw instead of returning a response. */
export class FunctionError extends InvocationError {
  override name = 'FunctionError';
  readonly kind = 'function_error' as const;
  /** The JS error's stack as the owner should read it (the gateway maps it to the user's files). */
  readonly jsStack: string | undefined;
  constructor(
    readonly jsName: string,
    readonly jsMessage: string,
    options?: ErrorOptions & { jsStack?: string },
  ) {
    super(`the function threw ${jsName}: ${jsMessage}`, options);
    this.jsStack = options?.jsStack;
  }
}

export class InvocationTimeoutError extends InvocationError {
  override name = 'InvocationTimeoutError';
  readonly kind = 'timeout' as const;
}

export class OutOfMemoryError extends InvocationError {
  override name = 'OutOfMemoryError';
  readonly kind = 'out_of_memory' as const;
}

export class CrashedError extends InvocationError {
  override name = 'CrashedError';
  readonly kind = 'crashed' as const;
}

/** The function answered, but outside the limits (a 17 KiB header, a 7 MB body, …). */
export class BadResponseError extends InvocationError {
  override name = 'BadResponseError';
  readonly kind = 'bad_response' as const;
}

export type OverloadScope = 'function' | 'tenant' | 'platform';

export class OverloadedError extends InvocationError {
  override name = 'OverloadedError';
  readonly kind = 'overloaded' as const;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly scope: OverloadScope,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class UnavailableError extends InvocationError {
  override name = 'UnavailableError';
  readonly kind = 'unavailable' as const;
  /** Set when the failing part knows when trying again makes sense. */
  retryAfterSeconds?: number;
}

/** The request is over a limit of limits.ts; `limit` is the number it broke. */
export class TooLargeError extends InvocationError {
  override name = 'TooLargeError';
  readonly kind = 'too_large' as const;
  constructor(
    readonly what: string,
    readonly limit: number,
    message = `the ${what} is over its ${limit}-byte limit — send less data`,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The kind of anything thrown: an InvocationError's own, or none (an unexpected failure). */
export function failureKind(error: unknown): FailureKind | undefined {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return typeof error === 'object' && error !== null && isFailureKind(kind) ? kind : undefined;
}
