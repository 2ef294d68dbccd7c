/**
 * Translating between HTTP and the invoker: which request headers the function sees, and how the
 * function's response becomes the HTTP response. The response was checked against the invocation
 * contract's limits where it left the guest (the VM layer); nothing is parsed again here.
 */
import type { FunctionResponse } from '@fn/contract';

/** Hop-by-hop headers describe one connection, not the message; they are never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The caller's API key is fn's credential, not the function's: it never reaches the guest. */
export function forwardedRequestHeaders(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'authorization') out.push([name, value]);
  });
  return out;
}

/** Statuses whose responses have no body by definition (fetch refuses one). */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * The function's own response, untouched except for framing: hop-by-hop headers and
 * Content-Length (the server recomputes it) are dropped, and x-fn-* headers are the gateway's, so
 * a function cannot forge them. Headers fetch would refuse are dropped rather than failing.
 */
export function functionResponse(result: FunctionResponse, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of result.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || lower.startsWith('x-fn-')) continue;
    try {
      headers.append(name, value);
    } catch {
      // The guest's Headers refuses invalid names and values; a hostile guest's are dropped here.
    }
  }
  const body = NULL_BODY.has(result.status) || method === 'HEAD' ? null : result.body;
  return new Response(body, { status: result.status, headers });
}
