/**
 * The gateway's own failure kinds, one class each. Like every error in fn they say what to do next;
 * error-mapping.ts alone turns them (and the registry's and the invoker's) into HTTP responses.
 * Those that can end an invocation extend the invocation contract's kinds (@fn/contract).
 */
import { InvocationTimeoutError, TooLargeError } from '@fn/contract';

export { FunctionError } from '@fn/contract';

export class GatewayError extends Error {
  override name = 'GatewayError';
}

/** The HTTP request itself is malformed: not JSON, a bad field, an unknown field or parameter. */
export class BadRequestError extends GatewayError {
  override name = 'BadRequestError';
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

/** No key, a malformed Authorization header, or a key that is unknown or revoked. */
export class UnauthorizedError extends GatewayError {
  override name = 'UnauthorizedError';
}

/** A body over its limit; raised before more than `limit` bytes were read. */
export class PayloadTooLargeError extends TooLargeError {
  override name = 'PayloadTooLargeError';
}

/** No route matches the method and path. */
export class RouteNotFoundError extends GatewayError {
  override name = 'RouteNotFoundError';
}

/** A deployer or invoker did not settle in time; the gateway stopped waiting so nothing hangs. */
export class DeadlineExceededError extends InvocationTimeoutError {
  override name = 'DeadlineExceededError';
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not finish within ${ms} ms and was abandoned — retry later, or raise the function's timeoutMs`);
  }
}
