/**
 * The limits of limits.ts as checks with messages a person can act on. The gateway checks a
 * request where it arrives (too_large); the VM layer checks a response where it leaves the guest
 * (bad_response). Past those two points every hop can rely on them.
 */
import { BadResponseError, TooLargeError } from './errors.js';
import type { FunctionRequest, FunctionResponse, HeaderPairs } from './invocation.js';
import { headerBytes, LIMITS } from './limits.js';

/** What is wrong with a header list, or undefined. */
function headerProblem(headers: HeaderPairs): { what: string; limit: number; detail: string } | undefined {
  if (headers.length > LIMITS.headerCount)
    return { what: 'header count', limit: LIMITS.headerCount, detail: `${headers.length} headers, over the limit of ${LIMITS.headerCount}` };
  for (const [name] of headers) {
    if (Buffer.byteLength(name) > LIMITS.headerNameBytes) {
      return {
        what: 'header name',
        limit: LIMITS.headerNameBytes,
        detail: `a header name of ${Buffer.byteLength(name)} bytes ("${name.slice(0, 40)}…"), over the limit of ${LIMITS.headerNameBytes}`,
      };
    }
  }
  const bytes = headerBytes(headers);
  if (bytes > LIMITS.headerBytes) {
    const [largest] = [...headers].sort((a, b) => b[1].length - a[1].length);
    const hint = largest ? ` (the largest is "${largest[0].slice(0, 40)}", ${Buffer.byteLength(largest[1])} bytes)` : '';
    return { what: 'headers', limit: LIMITS.headerBytes, detail: `headers of ${bytes} bytes${hint}, over the limit of ${LIMITS.headerBytes}` };
  }
  return undefined;
}

export function checkRequestLimits(request: Pick<FunctionRequest, 'url' | 'headers'> & { body?: Uint8Array }): void {
  const url = Buffer.byteLength(request.url);
  if (url > LIMITS.urlBytes)
    throw new TooLargeError('URL', LIMITS.urlBytes, `the URL is ${url} bytes, over the ${LIMITS.urlBytes}-byte limit — move data into the body`);
  const headers = headerProblem(request.headers);
  if (headers) throw new TooLargeError(headers.what, headers.limit, `the request has ${headers.detail} — send fewer or shorter headers`);
  if (request.body && request.body.byteLength > LIMITS.bodyBytes) throw new TooLargeError('request body', LIMITS.bodyBytes);
}

export function checkResponseLimits(response: FunctionResponse): void {
  if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599) {
    throw new BadResponseError(`the function answered with status ${response.status}; a response status is 200–599 — return a valid Response`);
  }
  const headers = headerProblem(response.headers);
  if (headers) throw new BadResponseError(`the function's response has ${headers.detail} — put large data in the body, not in headers`);
  if (response.body.byteLength > LIMITS.bodyBytes) {
    throw new BadResponseError(
      `the function's response body is ${response.body.byteLength} bytes, over the ${LIMITS.bodyBytes}-byte limit — return less data, or a link to it`,
    );
  }
}
