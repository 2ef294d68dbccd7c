/**
 * The gateway's own failure kinds, one class each. Like every error in fn they say what to do next;
 * error-mapping.ts alone turns them (and the registry's and the invoker's) into HTTP responses.
 */

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
export class PayloadTooLargeError extends GatewayError {
  override name = 'PayloadTooLargeError';
  constructor(
    readonly what: string,
    readonly limit: number,
  ) {
    super(`the ${what} is over its ${limit}-byte limit — send less data`);
  }
}

/** No route matches the method and path. */
export class RouteNotFoundError extends GatewayError {
  override name = 'RouteNotFoundError';
}

/** A deployer or invoker did not settle in time; the gateway stopped waiting so nothing hangs. */
export class DeadlineExceededError extends GatewayError {
  override name = 'DeadlineExceededError';
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not finish within ${ms} ms and was abandoned — retry later, or raise the function's timeoutMs`);
  }
}

/** The function's handler threw (it returned no response of its own). */
export class FunctionError extends GatewayError {
  override name = 'FunctionError';
  constructor(
    readonly jsName: string,
    readonly jsMessage: string,
  ) {
    super(`the function threw ${jsName}: ${jsMessage}`);
  }
}

/** The invoker answered something that is not an InvokeResult: a bug in the invoker, not the function. */
export class InvokerContractError extends GatewayError {
  override name = 'InvokerContractError';
}
