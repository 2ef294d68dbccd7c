/**
 * An invocation's response headers as a plain record, not a fetch Headers object: @hono/node-server
 * hands a plain record to Node's writeHead as it is, where a Headers object is validated header by
 * header, then copied and sorted into a record again (a few µs per response, on every
 * invocation). The record follows what Headers would have made of the same list: names
 * lower-cased, values trimmed of HTTP whitespace, repeated names joined with ", " except
 * Set-Cookie (one line each), names and values Headers would refuse dropped.
 *
 * Later additions (the x-fn-* headers, the request id the request log stamps) go through
 * setResponseHeader, which writes into the record of a response made here and into Headers
 * otherwise.
 */

export type HeaderRecord = Record<string, string | string[]>;

/** Responses built by plainResponse, and their header records. */
const records = new WeakMap<Response, HeaderRecord>();

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** After trimming: tab, visible ASCII, space and obs-text (what Headers and Node both accept). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/** Adds one header as Headers.append would; false (and nothing added) where Headers would throw. */
export function appendHeader(record: HeaderRecord, name: string, value: string): boolean {
  if (!TOKEN.test(name)) return false;
  const trimmed = value.replace(EDGE_WHITESPACE, '');
  if (!FIELD_VALUE.test(trimmed)) return false;
  const lower = name.toLowerCase();
  const existing = record[lower];
  if (existing === undefined) record[lower] = lower === 'set-cookie' ? [trimmed] : trimmed;
  else if (Array.isArray(existing)) existing.push(trimmed);
  else record[lower] = `${existing}, ${trimmed}`;
  return true;
}

/**
 * fetch's own Response, as this module found it. @hono/node-server replaces the global with its
 * lightweight Response when it starts serving: that one keeps the record it was given by
 * reference until someone reads response.headers, so headers added to the record later still
 * go out. fetch's own copies the record at once (app.request() in tests): there a Headers
 * object is built as before.
 */
const FETCH_RESPONSE = globalThis.Response;

/**
 * A Response whose headers stay a plain record until someone reads response.headers (nothing
 * between the invocation handler and the HTTP server does). Where the record cannot stand for
 * the headers exactly — several Set-Cookie lines (Headers joins a record's list into one value),
 * or fetch's own Response — a Headers object is built from it instead.
 */
export function plainResponse(body: Uint8Array | null, status: number, headers: HeaderRecord): Response {
  // Node's writeHead would otherwise send no Content-Type; @hono/node-server adds this default to
  // a body whose Headers name none, so a record does the same.
  if (body !== null && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=UTF-8';
  const cookies = headers['set-cookie'];
  if (Array.isArray(cookies) && cookies.length === 1) headers['set-cookie'] = cookies[0]!;
  if (globalThis.Response === FETCH_RESPONSE || Array.isArray(headers['set-cookie'])) {
    const list = new Headers();
    for (const [name, value] of Object.entries(headers)) for (const one of Array.isArray(value) ? value : [value]) list.append(name, one);
    return new Response(body, { status, headers: list });
  }
  const response = new Response(body, { status, headers: headers as Record<string, string> });
  records.set(response, headers);
  return response;
}

/** Sets (replaces) one header of a response, in its plain record where it has one. */
export function setResponseHeader(response: Response, name: string, value: string): void {
  const record = records.get(response);
  if (record) record[name.toLowerCase()] = value;
  else response.headers.set(name, value);
}
