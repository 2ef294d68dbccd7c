/**
 * The one table from an invocation's failure kind (@fn/contract) to its HTTP answer. Every hop
 * passes the kind on unchanged, so this is the only place that decides what a client is told.
 *
 *   kind            status  type               why this status
 *   function_error  500     function_error     the handler threw: the function's fault
 *   timeout         504     timeout            it did not finish within its timeout
 *   out_of_memory   500     out_of_memory      the function's fault, not an upstream failure
 *   crashed         500     function_crashed   the function's (or its runtime's) fault; the platform
 *                                              is healthy, so not 502/503, which clients and load
 *                                              balancers read as "retry elsewhere"
 *   bad_response    502     bad_response       the function answered outside the limits (a 17 KiB
 *                                              header, a 7 MB body): an invalid response from the
 *                                              upstream, RFC 9110's 502, as API Gateway answers a
 *                                              malformed Lambda response
 *   overloaded      429     overloaded         + Retry-After
 *   unavailable     503     unavailable        + Retry-After when known; the platform's own state
 *   too_large       413     payload_too_large  the request is over a limit: send less
 */
import type { FailureKind } from '@fn/contract';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type InvocationErrorType =
  | 'function_error'
  | 'timeout'
  | 'out_of_memory'
  | 'function_crashed'
  | 'bad_response'
  | 'overloaded'
  | 'unavailable'
  | 'payload_too_large';

export const STATUS_OF_KIND: Record<FailureKind, { status: ContentfulStatusCode; type: InvocationErrorType }> = {
  function_error: { status: 500, type: 'function_error' },
  timeout: { status: 504, type: 'timeout' },
  out_of_memory: { status: 500, type: 'out_of_memory' },
  crashed: { status: 500, type: 'function_crashed' },
  bad_response: { status: 502, type: 'bad_response' },
  overloaded: { status: 429, type: 'overloaded' },
  unavailable: { status: 503, type: 'unavailable' },
  too_large: { status: 413, type: 'payload_too_large' },
};
