/**
 * One error class per way a bus operation fails. They are the same for every transport (in-process
 * or NATS), so callers branch on the class, never on a transport's own error type.
 */

export class BusError extends Error {
  override name = 'BusError';
}

/** Nobody is subscribed to the subject: the message reached no one, so nothing was started. */
export class NoRespondersError extends BusError {
  override name = 'NoRespondersError';
  readonly code = 'no_responders';
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(`no responders on ${subject}: start the service that serves it, or check the subject`, options);
  }
}

/** No reply within the deadline. The responder may or may not have acted on the request. */
export class BusTimeoutError extends BusError {
  override name = 'BusTimeoutError';
  readonly code = 'timeout';
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`no reply on ${subject} within ${timeoutMs} ms: the responder is slow, stuck or gone`, options);
  }
}

/** The bus was closed: before the call, or while a request was waiting for its reply. */
export class BusClosedError extends BusError {
  override name = 'BusClosedError';
  readonly code = 'closed';
  constructor(what: string, options?: ErrorOptions) {
    super(`${what}: the bus connection is closed — create a new one`, options);
  }
}

/** A subject that is malformed, has wildcards where none are allowed, or lies outside its contract. */
export class InvalidSubjectError extends BusError {
  override name = 'InvalidSubjectError';
  readonly code = 'invalid_subject';
}

/**
 * A message does not match its contract's zod schema. Raised where the message enters: by the
 * sender before it leaves, or by the receiver (then the requester sees it as a RemoteError named
 * BusContractError). `issues` are "path: problem", never the value, which may be a secret.
 */
export class BusContractError extends BusError {
  override name = 'BusContractError';
  readonly code = 'contract';
  constructor(
    message: string,
    readonly issues: string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Plain values a remote error may carry besides its name, message and code. */
export type ErrorDetails = Record<string, string | number | boolean | null>;

/**
 * The responder's handler threw. Carries the remote error's name, message, code and details (its
 * own primitive fields, e.g. OverloadedError's retryAfterSeconds), so callers can rebuild a typed
 * error; the remote stack is not sent, as it describes another process's internals.
 */
export class RemoteError extends BusError {
  override name = 'RemoteError';
  constructor(
    readonly subject: string,
    readonly remoteName: string,
    message: string,
    readonly code: string | undefined,
    readonly details: ErrorDetails,
  ) {
    super(message);
  }
}

/** An event too large for one message of the transport (requests and replies are chunked instead). */
export class MessageTooLargeError extends BusError {
  override name = 'MessageTooLargeError';
  readonly code = 'too_large';
  constructor(
    readonly subject: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the message on ${subject} is ${bytes} bytes, over the ${limit}-byte limit of one message: send less, or use a request`);
  }
}

/** The bus could not reach its server (NATS) at all. */
export class BusConnectError extends BusError {
  override name = 'BusConnectError';
  readonly code = 'connect';
}
