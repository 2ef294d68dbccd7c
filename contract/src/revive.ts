/**
 * An InvocationError that crossed a process boundary as plain data (name, message, its own
 * primitive fields) becomes an instance of its kind's class again, so the receiving side keeps
 * `instanceof OverloadedError`, `retryAfterSeconds` and the original name ("GuestTimeoutError").
 */
import {
  BadResponseError,
  CrashedError,
  FunctionError,
  InvocationError,
  InvocationTimeoutError,
  isFailureKind,
  OutOfMemoryError,
  OverloadedError,
  TooLargeError,
  UnavailableError,
  type FailureKind,
} from './errors.js';

type KindClass = abstract new (...args: never[]) => InvocationError;

const CLASS_OF: Record<FailureKind, KindClass> = {
  function_error: FunctionError,
  timeout: InvocationTimeoutError,
  out_of_memory: OutOfMemoryError,
  crashed: CrashedError,
  bad_response: BadResponseError,
  overloaded: OverloadedError,
  unavailable: UnavailableError,
  too_large: TooLargeError,
};

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/**
 * The error `fields.kind` names, or undefined when it names no kind (the caller then keeps its own
 * error: an unexpected failure stays unexpected). The constructors compose messages from their
 * arguments; the sender already did that, so the instance is made without calling them.
 */
export function reviveInvocationError(
  name: string,
  message: string,
  fields: Readonly<Record<string, unknown>>,
  options: { stack?: string | undefined; cause?: unknown } = {},
): InvocationError | undefined {
  const kind = fields.kind;
  if (!isFailureKind(kind)) return undefined;
  const err = Object.create(CLASS_OF[kind].prototype) as InvocationError;
  const own = (value: unknown) => ({ value, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(err, 'name', own(name));
  Object.defineProperty(err, 'message', own(message));
  Object.defineProperty(err, 'stack', own(options.stack ?? `${name}: ${message}`));
  if (options.cause !== undefined) Object.defineProperty(err, 'cause', own(options.cause));
  for (const [key, value] of Object.entries(fields)) {
    if (!FIELD_NAME.test(key) || !['string', 'number', 'boolean'].includes(typeof value)) continue;
    Object.defineProperty(err, key, { value, enumerable: true, writable: key !== 'kind', configurable: true });
  }
  return err;
}

/** The primitive own fields of an error (kind, retryAfterSeconds, timeoutMs, …): what travels. */
export function errorFields(error: Error): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause' || !FIELD_NAME.test(key)) continue;
    if (typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
    else if (typeof value === 'string') fields[key] = value.slice(0, 64 * 1024);
  }
  return fields;
}
