/**
 * The one place where errors become HTTP status codes (DESIGN §3.7). Everything else in fn throws
 * its own error classes; the registry's are matched by name like the invoker's, so a second copy
 * of a module (dist vs src) cannot turn a 404 into a 500.
 *
 *   BadRequestError, ValidationError (registry)  400 validation      (with issues)
 *   GuestLoadError, InvalidInputError, BundleError 400 validation    (a deploy's bundle failed to load)
 *   UnauthorizedError                            401 unauthorized    (+ WWW-Authenticate: Bearer)
 *   ForbiddenError (registry)                    403 forbidden
 *   NotFoundError (registry), RouteNotFoundError 404 not_found
 *   ConflictError (registry)                     409 conflict
 *   PayloadTooLargeError (gateway or VM)         413 payload_too_large
 *   OverloadedError                              429 overloaded      (+ Retry-After)
 *   FunctionError (the handler threw)            500 function_error
 *   GuestCrashedError, GuestOutOfMemoryError     500 function_crashed
 *   anything else                                500 internal        (logged with the request id)
 *   UnavailableError & co.                       503 unavailable     (+ Retry-After when known)
 *   GuestTimeoutError & co., DeadlineExceeded    504 timeout
 *
 * A crashed or out-of-memory VM is a 500, not a 502: the failure is the function's (or its
 * runtime's) like a thrown error, the platform itself is healthy, and clients and load balancers
 * read 502 as "the gateway's upstream is broken, retry elsewhere", which would not help.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { GatewayEnv } from './context.js';
import type { Logger } from './deps.js';
import { setInvocationHeaders } from './invocation-headers.js';
import { classifyFailure } from './invoker-failures.js';

export type ErrorType =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'overloaded'
  | 'function_error'
  | 'function_crashed'
  | 'internal'
  | 'unavailable'
  | 'timeout';

interface Mapped {
  status: ContentfulStatusCode;
  type: ErrorType;
  message: string;
  issues?: string[];
  retryAfterSeconds?: number;
}

const BY_NAME: Record<string, [ContentfulStatusCode, ErrorType]> = {
  BadRequestError: [400, 'validation'],
  ValidationError: [400, 'validation'],
  UnauthorizedError: [401, 'unauthorized'],
  ForbiddenError: [403, 'forbidden'],
  NotFoundError: [404, 'not_found'],
  RouteNotFoundError: [404, 'not_found'],
  ConflictError: [409, 'conflict'],
};

export function errorResponse(error: unknown, c: Context<GatewayEnv>, logger: Logger): Response {
  const mapped = mapError(error, c);
  const requestId = c.get('requestId');
  const invocation = c.get('invocation');
  if (mapped.type === 'internal') {
    const e = error instanceof Error ? error : new Error(String(error));
    logger({ level: 'error', msg: 'unhandled error', requestId, invocationId: invocation?.id, error: e.name, message: e.message, stack: e.stack });
  }
  const res = c.json(
    {
      error: {
        type: mapped.type,
        message: mapped.message,
        requestId,
        ...(invocation ? { invocationId: invocation.id } : {}),
        ...(mapped.issues ? { issues: mapped.issues } : {}),
        ...(mapped.retryAfterSeconds !== undefined ? { retryAfterSeconds: mapped.retryAfterSeconds } : {}),
      },
    },
    mapped.status,
  );
  if (mapped.retryAfterSeconds !== undefined) res.headers.set('retry-after', String(mapped.retryAfterSeconds));
  if (mapped.status === 401) res.headers.set('www-authenticate', 'Bearer realm="fn"');
  if (invocation) setInvocationHeaders(res.headers, invocation);
  return res;
}

function mapError(error: unknown, c: Context<GatewayEnv>): Mapped {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; issues?: unknown };
  const message = typeof e.message === 'string' ? e.message : 'unknown error';
  const byName = typeof e.name === 'string' ? BY_NAME[e.name] : undefined;
  if (byName) {
    const issues = Array.isArray(e.issues) ? e.issues.filter((i): i is string => typeof i === 'string') : undefined;
    return { status: byName[0], type: byName[1], message, ...(byName[0] === 400 && issues ? { issues } : {}) };
  }
  if (e.name === 'FunctionError') {
    // The owner sees its own error; anyone invoking a public function sees only that it failed.
    const privileged = c.get('invocation')?.privileged ?? false;
    return { status: 500, type: 'function_error', message: privileged ? message : 'the function failed; its owner can read the error in the logs' };
  }
  const failure = classifyFailure(error);
  const timeoutMs = c.get('invocation')?.timeoutMs;
  switch (failure?.kind) {
    case 'overloaded':
      return { status: 429, type: 'overloaded', message: `too many concurrent invocations${failure.scope ? ` (${failure.scope} limit)` : ''} — retry after ${failure.retryAfterSeconds} s`, retryAfterSeconds: failure.retryAfterSeconds };
    case 'timeout':
      return c.get('invocation')
        ? { status: 504, type: 'timeout', message: `the invocation did not finish in time${timeoutMs ? ` (timeoutMs ${timeoutMs})` : ''} and was stopped — make the function faster or raise timeoutMs` }
        : { status: 504, type: 'timeout', message };
    case 'crashed':
      return failure.outOfMemory
        ? { status: 500, type: 'function_crashed', message: 'the function ran out of memory and its microVM was discarded — use less memory or raise memoryMiB' }
        : { status: 500, type: 'function_crashed', message: 'the function\'s microVM crashed and was discarded — see the function\'s logs; retrying may succeed' };
    case 'unavailable':
      return { status: 503, type: 'unavailable', message: `the platform cannot run invocations right now — retry later`, ...(failure.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.retryAfterSeconds } : {}) };
    case 'bad-input':
      return { status: 400, type: 'validation', message };
    case 'too-large':
      return { status: 413, type: 'payload_too_large', message };
    default:
      return { status: 500, type: 'internal', message: `internal error — report request id ${c.get('requestId')} to the operator` };
  }
}
