/**
 * The one place where errors become HTTP status codes (DESIGN §3.7). Everything else in fn throws
 * its own error classes. An invocation's failure carries its kind (@fn/contract) through every hop
 * and is answered by the kind table of status-table.ts; the control API's errors (the registry's
 * and the gateway's own) are matched by name, so a second copy of a module (dist vs src) cannot
 * turn a 404 into a 500.
 *
 *   BadRequestError, ValidationError (registry)    400 validation   (with issues)
 *   GuestLoadError, InvalidInputError, BundleError 400 validation   (a deploy's bundle failed to load)
 *   UnauthorizedError                              401 unauthorized (+ WWW-Authenticate: Bearer)
 *   ForbiddenError (registry)                      403 forbidden
 *   NotFoundError (registry), RouteNotFoundError   404 not_found
 *   ConflictError (registry)                       409 conflict
 *   anything with a failure kind                   status-table.ts
 *   anything else                                  500 internal     (logged with the request id)
 */
import { failureKind, type FailureKind } from '@fn/contract';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { GatewayEnv } from './context.js';
import type { Logger } from './deps.js';
import { setInvocationHeaders } from './invocation-headers.js';
import { STATUS_OF_KIND, type InvocationErrorType } from './status-table.js';

export type ErrorType = 'validation' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'internal' | InvocationErrorType;

interface Mapped {
  status: ContentfulStatusCode;
  type: ErrorType;
  message: string;
  issues?: string[];
  retryAfterSeconds?: number;
  stack?: string;
}

const BY_NAME: Record<string, [ContentfulStatusCode, ErrorType]> = {
  BadRequestError: [400, 'validation'],
  ValidationError: [400, 'validation'],
  UnauthorizedError: [401, 'unauthorized'],
  ForbiddenError: [403, 'forbidden'],
  NotFoundError: [404, 'not_found'],
  RouteNotFoundError: [404, 'not_found'],
  ConflictError: [409, 'conflict'],
  // A deploy whose bundle does not load, or that the VM refuses outright.
  GuestLoadError: [400, 'validation'],
  InvalidInputError: [400, 'validation'],
  BundleError: [400, 'validation'],
};

export function errorResponse(error: unknown, c: Context<GatewayEnv>, logger: Logger): Response {
  const mapped = mapError(error, c);
  const requestId = c.get('requestId');
  const invocation = c.get('invocation');
  if (mapped.type === 'internal') {
    const e = error instanceof Error ? error : new Error(String(error));
    logger({
      level: 'error',
      msg: 'unhandled error',
      requestId,
      invocationId: invocation?.id,
      traceId: c.get('trace')?.traceId,
      error: e.name,
      message: e.message,
      stack: e.stack,
    });
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
        ...(mapped.stack !== undefined ? { stack: mapped.stack } : {}),
      },
    },
    mapped.status,
  );
  if (mapped.retryAfterSeconds !== undefined) res.headers.set('retry-after', String(mapped.retryAfterSeconds));
  if (mapped.status === 401) res.headers.set('www-authenticate', 'Bearer realm="fn"');
  if (invocation) setInvocationHeaders(res, invocation);
  return res;
}

function mapError(error: unknown, c: Context<GatewayEnv>): Mapped {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; issues?: unknown };
  const message = typeof e.message === 'string' ? e.message : 'unknown error';
  const kind = failureKind(error);
  if (kind) {
    const { status, type } = STATUS_OF_KIND[kind];
    return {
      status,
      type,
      message: kindMessage(kind, error as Record<string, unknown>, message, c),
      ...retryAfter(kind, error as Record<string, unknown>),
      ...ownersStack(kind, error as Record<string, unknown>, c),
    };
  }
  const byName = typeof e.name === 'string' && Object.hasOwn(BY_NAME, e.name) ? BY_NAME[e.name] : undefined;
  if (byName) {
    const issues = Array.isArray(e.issues) ? e.issues.filter((i): i is string => typeof i === 'string') : undefined;
    return { status: byName[0], type: byName[1], message, ...(byName[0] === 400 && issues ? { issues } : {}) };
  }
  return { status: 500, type: 'internal', message: `internal error — report request id ${c.get('requestId')} to the operator` };
}

/** A function's error stack goes to its owner only, like its message (kindMessage). */
function ownersStack(kind: FailureKind, error: Record<string, unknown>, c: Context<GatewayEnv>): { stack?: string } {
  const invocation = c.get('invocation');
  if (kind !== 'function_error' || !invocation?.privileged || typeof error.jsStack !== 'string' || error.jsStack === '') return {};
  return { stack: error.jsStack };
}

/** What the client is told for each kind; outside an invocation (a deploy) the error's own message. */
function kindMessage(kind: FailureKind, error: Record<string, unknown>, message: string, c: Context<GatewayEnv>): string {
  const invocation = c.get('invocation');
  if (!invocation) return message;
  switch (kind) {
    case 'function_error':
      // The owner sees its own error; anyone invoking a public function sees only that it failed.
      return invocation.privileged ? message : 'the function failed; its owner can read the error in the logs';
    case 'timeout':
      return `the invocation did not finish in time${invocation.timeoutMs ? ` (timeoutMs ${invocation.timeoutMs})` : ''} and was stopped — make the function faster or raise timeoutMs`;
    case 'out_of_memory': {
      const mib = typeof error.memoryMiB === 'number' ? ` (memoryMiB ${error.memoryMiB})` : '';
      return `the function ran out of its memory${mib} and its microVM was discarded — the function's fault, not the platform's: use less memory or raise memoryMiB`;
    }
    case 'crashed':
      return "the function's microVM crashed and was discarded — the function's fault (or its runtime's), not the platform's: see the function's logs; retrying may succeed";
    case 'bad_response':
      return message;
    case 'overloaded': {
      const scope = typeof error.scope === 'string' ? ` (${error.scope} limit)` : '';
      return `too many concurrent invocations${scope} — retry after ${retryAfter(kind, error).retryAfterSeconds} s`;
    }
    case 'unavailable':
      return 'the platform cannot run invocations right now — retry later';
    case 'too_large':
      return message;
  }
}

/** Retry-After takes whole seconds; round up so a client never retries early. Overloaded always has one. */
function retryAfter(kind: FailureKind, error: Record<string, unknown>): { retryAfterSeconds?: number } {
  const value = error.retryAfterSeconds;
  const seconds = typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.max(1, Math.ceil(value)) : undefined;
  if (kind === 'overloaded') return { retryAfterSeconds: seconds ?? 1 };
  if (kind === 'unavailable' && seconds !== undefined) return { retryAfterSeconds: seconds };
  return {};
}
