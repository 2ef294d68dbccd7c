/**
 * Translating between HTTP and the invoker: which request headers the function sees, and how the
 * function's response becomes the HTTP response. The response was checked against the invocation
 * contract's limits where it left the guest (the VM layer); nothing is parsed again here.
 */
import { IncomingMessage } from 'node:http';
import type { FunctionResponse } from '@fn/contract';
import { appendHeader, plainResponse, type HeaderRecord } from './response-headers.js';

/** Hop-by-hop headers describe one connection, not the message; they are never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The caller's API key is fn's credential, not the function's: it never reaches the guest. */
export function forwardedRequestHeaders(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'authorization') out.push([name, value]);
  });
  return out;
}

/**
 * The same from Node's own request (served by @hono/node-server: c.env.incoming), straight from
 * its raw header list: no Headers object is built for an invocation. Names are lower-cased and
 * repeated headers joined with ", " (Set-Cookie never comes in a request), as fetch's Headers does.
 */
export function forwardedIncomingHeaders(incoming: IncomingMessage): [string, string][] {
  const raw = incoming.rawHeaders;
  const out: [string, string][] = [];
  const at = new Map<string, number>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || name === 'authorization') continue;
    const value = raw[i + 1]!.trim();
    const seen = at.get(name);
    if (seen === undefined) {
      at.set(name, out.length);
      out.push([name, value]);
    } else {
      out[seen]![1] += `, ${value}`;
    }
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Node's request behind the hono context, when @hono/node-server serves it (not app.request()). */
export function incomingOf(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/** A request without a body by its framing: no Content-Length (or 0) and no Transfer-Encoding. */
export function hasNoBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  return incoming.headers['transfer-encoding'] === undefined && (length === undefined || length.trim() === '0');
}

/** Statuses whose responses have no body by definition (fetch refuses one). */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * The function's own response, untouched except for framing: hop-by-hop headers and
 * Content-Length (the server recomputes it) are dropped, and x-fn-* headers are the gateway's, so
 * a function cannot forge them. Headers fetch would refuse are dropped rather than failing. The
 * headers stay a plain record (response-headers.ts): add to them with setResponseHeader.
 */
export function functionResponse(result: FunctionResponse, method: string): Response {
  const headers: HeaderRecord = {};
  for (const [name, value] of result.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || lower.startsWith('x-fn-')) continue;
    // The guest's Headers refuses invalid names and values; a hostile guest's are dropped here.
    appendHeader(headers, name, value);
  }
  const body = NULL_BODY.has(result.status) || method === 'HEAD' ? null : result.body;
  return plainResponse(body, result.status, headers);
}
