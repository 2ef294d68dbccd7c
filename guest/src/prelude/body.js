// body.js — Request and Response with fully buffered bodies.
//
// Bodies are byte arrays: fn hands the whole request to the guest and takes the whole response
// back. text(), json(), arrayBuffer(), bytes(), blob() and formData() read the buffer once; `body`
// is a ReadableStream of that one buffer (streams.js), for code that reads bodies as streams.

import {
  defineGlobal,
  defineMethods,
  setToStringTag,
  requireArgs,
  isObjectLike,
  describeValue,
  bytesView,
  exactArrayBuffer,
  utf8Encode,
  utf8Decode,
} from './internal.js';
import { HTTP_TOKEN, headersInternals, Headers, headersFromPairs } from './headers.js';
import { FAILURE, absoluteHref } from './url-parser.js';
import { URLSearchParams } from './url.js';
import { Blob, FormData, bytesOfBlob, encodeMultipart, parseMultipart } from './blob.js';
import { cryptoObject } from './crypto.js';
import { bodyStream, unreadBodyStreamBytes } from './streams.js';

// Body state of every Request/Response: { bytes: Uint8Array | null, used: boolean }.
const bodyStates = new WeakMap();

const UNSUPPORTED_BODY = 'is not supported as a body in fn; pass a string, an ArrayBuffer, a TypedArray, a DataView or URLSearchParams';

// The standard's "extract a body": the bytes (a private copy) and the content type it implies.
export const TEXT_PLAIN = 'text/plain;charset=UTF-8';

function extractBody(init, what) {
  if (typeof init === 'string') return { bytes: utf8Encode(init), type: TEXT_PLAIN };
  if (init instanceof URLSearchParams) {
    return { bytes: utf8Encode(init.toString()), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  const view = bytesView(init);
  if (view !== null) return { bytes: view.slice(), type: null };
  if (init instanceof Blob) return { bytes: bytesOfBlob(init).slice(), type: init.type === '' ? null : init.type };
  if (init instanceof FormData) {
    return encodeMultipart(init, cryptoObject.randomUUID().replace(/-/g, ''));
  }
  if (isObjectLike(init)) {
    const buffered = unreadBodyStreamBytes(init);
    if (buffered !== null) return { bytes: buffered.slice(), type: null };
    if (typeof init.getReader === 'function') throw new TypeError(`${what}: a ReadableStream ${UNSUPPORTED_BODY}`);
    if (typeof init.arrayBuffer === 'function' && typeof init.type === 'string') throw new TypeError(`${what}: a Blob ${UNSUPPORTED_BODY}`);
    if (typeof init.append === 'function' && typeof init.getAll === 'function') throw new TypeError(`${what}: FormData ${UNSUPPORTED_BODY}`);
  }
  // Anything else is converted like the USVString member of BodyInit.
  return { bytes: utf8Encode(init), type: TEXT_PLAIN };
}

function bodyStateOf(object, what) {
  const state = bodyStates.get(object);
  if (state === undefined) throw new TypeError(`${what} called on an object that is not a Request or Response`);
  return state;
}

// Marks the body used and returns its bytes (empty for a null body, which is never "used").
// Body state also has `stream` once `body` was read (streams.js).
function consumeBody(object, what) {
  const state = bodyStateOf(object, what);
  if (state.used) throw new TypeError(`${what}: the body has already been read; clone() the object first to read it twice`);
  if (state.bytes === null) return new Uint8Array(0);
  state.used = true;
  return state.bytes;
}

function decodeBodyText(bytes) {
  // The standard's "UTF-8 decode" drops a leading byte order mark.
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  return utf8Decode(bytes, false);
}

// Body methods shared by Request and Response (the standard's Body mixin).
function installBodyMethods(Class) {
  const name = Class.name;
  const methods = {
    async text() {
      return decodeBodyText(consumeBody(this, `${name}.text()`));
    },
    async json() {
      return JSON.parse(decodeBodyText(consumeBody(this, `${name}.json()`)));
    },
    async arrayBuffer() {
      return exactArrayBuffer(consumeBody(this, `${name}.arrayBuffer()`));
    },
    async bytes() {
      return consumeBody(this, `${name}.bytes()`);
    },
    async blob() {
      const bytes = consumeBody(this, `${name}.blob()`);
      const type = this.headers.get('content-type');
      return new Blob([bytes], { type: type === null ? '' : type });
    },
    // application/x-www-form-urlencoded and multipart/form-data, as the standard says.
    async formData() {
      const what = `${name}.formData()`;
      const type = (this.headers.get('content-type') || '').toLowerCase();
      const bytes = consumeBody(this, what);
      if (/^multipart\/form-data\s*;/.test(type)) return parseMultipart(bytes, this.headers.get('content-type'), what);
      if (/^application\/x-www-form-urlencoded\s*(;|$)/.test(type)) {
        const form = new FormData();
        new URLSearchParams(decodeBodyText(bytes)).forEach((value, key) => form.append(key, value));
        return form;
      }
      throw new TypeError(`${what}: the content type must be multipart/form-data or application/x-www-form-urlencoded, not ${JSON.stringify(type)}`);
    },
  };
  defineMethods(Class.prototype, methods);
  // The body as a ReadableStream of one chunk (bodies are buffered whole); taking a reader uses it.
  Object.defineProperty(Class.prototype, 'body', {
    get() {
      const state = bodyStateOf(this, `${name}.body`);
      if (state.bytes === null) return null;
      if (state.stream === undefined) {
        const bytes = state.used ? new Uint8Array(0) : state.bytes;
        state.stream = bodyStream(bytes, () => {
          state.used = true;
        });
      }
      return state.stream;
    },
    enumerable: true,
    configurable: true,
  });
  Object.defineProperty(Class.prototype, 'bodyUsed', {
    get() {
      return bodyStateOf(this, `${name}.bodyUsed`).used;
    },
    enumerable: true,
    configurable: true,
  });
}

// A copy of the body for clone(): the two objects must not share a buffer.
function cloneBodyState(object, what) {
  const state = bodyStateOf(object, what);
  if (state.used) throw new TypeError(`${what}: cannot clone after the body has been read`);
  return { bytes: state.bytes === null ? null : state.bytes.slice(), used: false };
}

// ---- Request ----------------------------------------------------------------------------------

const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const FORBIDDEN_METHODS = ['CONNECT', 'TRACE', 'TRACK'];

function normalizeMethod(method) {
  if (NORMALIZED_METHODS.indexOf(method) >= 0) return method; // already normalized: the usual case
  const m = String(method);
  if (!HTTP_TOKEN.test(m)) throw new TypeError(`Request: "${m}" is not a valid HTTP method`);
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.indexOf(upper) >= 0) throw new TypeError(`Request: the method ${upper} is not allowed`);
  return NORMALIZED_METHODS.indexOf(upper) >= 0 ? upper : m;
}

function requestHref(input) {
  const href = absoluteHref(input);
  if (href === FAILURE)
    throw new TypeError(`Request: invalid URL ${JSON.stringify(String(input))}; fn needs an absolute URL such as "https://example.com/path"`);
  return href;
}

// Stands in for a missing init: reading its members gives undefined, like reading them from {}.
const NO_INIT = Object.freeze({});

// First constructor argument of the request handed to fetch(), built by createIncomingRequest
// (private to the prelude, so user code cannot forge it).
const INCOMING = {};

export class Request {
  #method = 'GET';
  #url;
  #headers = null;
  #headerPairs = null; // an incoming request's pairs from the host, until #headers is made from them
  #redirect = 'follow';

  constructor(input, init = undefined) {
    requireArgs(arguments, 1, 'Request');
    if (input === INCOMING) {
      // (INCOMING, method, url, headerPairs, bytes): see createIncomingRequest.
      this.#url = requestHref(arguments[2]);
      this.#method = normalizeMethod(arguments[1]);
      this.#headerPairs = arguments[3];
      const bytes = arguments[4];
      bodyStates.set(this, { bytes: bytes.length === 0 ? null : bytes, used: false });
      return;
    }
    if (init === null || init === undefined) init = NO_INIT;
    else if (typeof init !== 'object') throw new TypeError(`Request: init must be an object, got ${describeValue(init)}`);
    let source = null;
    if (input instanceof Request) {
      source = input;
      this.#url = input.#url;
      this.#method = input.#method;
      this.#redirect = input.#redirect;
    } else {
      this.#url = requestHref(input);
    }
    if (init.method !== undefined) this.#method = normalizeMethod(init.method);
    if (init.redirect !== undefined) {
      const r = String(init.redirect);
      if (r !== 'follow' && r !== 'error' && r !== 'manual') throw new TypeError(`Request: redirect must be "follow", "error" or "manual", got "${r}"`);
      this.#redirect = r;
    }
    this.#headers = new Headers(init.headers !== undefined ? init.headers : source !== null ? source.#headerObject() : undefined);

    // A Request given as init (new Request(url, otherRequest)) brings its body along too.
    const initBody = init.body !== undefined ? init.body : init instanceof Request ? init : undefined;
    let state = { bytes: null, used: false };
    if (initBody instanceof Request) {
      state = cloneBodyState(initBody, 'Request');
    } else if (initBody !== undefined && initBody !== null) {
      const body = extractBody(initBody, 'Request');
      state.bytes = body.bytes;
      if (body.type !== null && !headersInternals.has(this.#headers, 'content-type')) {
        headersInternals.appendValidated(this.#headers, 'content-type', body.type);
      }
    } else if (initBody === undefined && source !== null) {
      state = cloneBodyState(source, 'Request');
    }
    if (state.bytes !== null && (this.#method === 'GET' || this.#method === 'HEAD')) {
      throw new TypeError(`Request: a ${this.#method} request cannot have a body`);
    }
    bodyStates.set(this, state);
  }

  // The incoming request's headers are validated and normalized only if the handler looks at them.
  #headerObject() {
    if (this.#headers === null) {
      this.#headers = this.#headerPairs === null ? new Headers() : headersFromPairs(this.#headerPairs);
      this.#headerPairs = null;
    }
    return this.#headers;
  }

  get method() {
    return this.#method;
  }

  get url() {
    return this.#url;
  }

  get headers() {
    return this.#headerObject();
  }

  get redirect() {
    return this.#redirect;
  }

  clone() {
    const state = cloneBodyState(this, 'Request.clone()');
    const copy = new Request(this.#url, { method: this.#method, headers: this.#headerObject(), redirect: this.#redirect });
    bodyStates.set(copy, state);
    return copy;
  }
}
installBodyMethods(Request);
setToStringTag(Request.prototype, 'Request');

// The request handed to fetch(), from what the host sent: `url` must parse (it is serialized the
// way new Request(url) would), `method` is normalized, and the body is kept whatever the method (a
// GET with a body is unusual but the bytes are kept, not rejected). headerPairs is the host's array;
// only pairs of valid names and values become headers, and only when the handler reads them.
export function createIncomingRequest(method, url, headerPairs, bytes) {
  return new Request(INCOMING, method, url, headerPairs, bytes);
}

// ---- Response ---------------------------------------------------------------------------------

export const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

// WebIDL `unsigned short` conversion, as browsers apply it to `status`.
function toUnsignedShort(value) {
  const n = Number(value);
  if (!isFinite(n)) return 0;
  const t = Math.trunc(n) % 65536;
  return t < 0 ? t + 65536 : t;
}

// Headers with the content type a body implies, unless the given ones already have one.
function headersWithContentType(headers, type) {
  if (headers === null) return headersInternals.fromList([['content-type', type]]);
  if (!headersInternals.has(headers, 'content-type')) headersInternals.appendValidated(headers, 'content-type', type);
  return headers;
}

export class Response {
  #status = 200;
  #statusText = '';
  #headers;
  #type = 'default';

  constructor(body = null, init = undefined) {
    if (init === null || init === undefined) init = NO_INIT;
    else if (typeof init !== 'object') throw new TypeError(`Response: init must be an object, got ${describeValue(init)}`);
    if (init.status !== undefined) {
      const status = toUnsignedShort(init.status);
      if (status < 200 || status > 599) throw new RangeError(`Response: status ${status} is outside the range 200 to 599`);
      this.#status = status;
    }
    if (init.statusText !== undefined) {
      const text = String(init.statusText);
      if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(text))
        throw new TypeError('Response: statusText contains characters that are not allowed in an HTTP reason phrase');
      this.#statusText = text;
    }
    const headersInit = init.headers;
    let headers = headersInit === undefined ? null : new Headers(headersInit);
    const state = { bytes: null, used: false };
    if (body !== null && body !== undefined) {
      this.#checkCanHaveBody();
      if (typeof body === 'string') {
        // The commonest body, without the intermediate object extractBody returns.
        state.bytes = utf8Encode(body);
        headers = headersWithContentType(headers, TEXT_PLAIN);
      } else {
        const extracted = extractBody(body, 'Response');
        state.bytes = extracted.bytes;
        if (extracted.type !== null) headers = headersWithContentType(headers, extracted.type);
      }
    }
    this.#headers = headers === null ? new Headers() : headers;
    bodyStates.set(this, state);
  }

  #checkCanHaveBody() {
    if (NULL_BODY_STATUSES.indexOf(this.#status) >= 0) {
      throw new TypeError(`Response: a response with status ${this.#status} cannot have a body; pass null`);
    }
  }

  static json(data, init = undefined) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError(`Response.json: ${describeValue(data)} cannot be serialized as JSON`);
    // Like new Response(bytes, init) with the content type added, minus a copy of the bytes.
    const response = new Response(null, init);
    response.#checkCanHaveBody();
    bodyStates.get(response).bytes = utf8Encode(text);
    headersWithContentType(response.#headers, 'application/json');
    return response;
  }

  static redirect(url, status = 302) {
    const href = absoluteHref(url);
    if (href === FAILURE) throw new TypeError(`Response.redirect: invalid URL ${JSON.stringify(String(url))}; an absolute URL is needed`);
    const s = toUnsignedShort(status);
    if (REDIRECT_STATUSES.indexOf(s) < 0) throw new RangeError(`Response.redirect: ${s} is not a redirect status (301, 302, 303, 307 or 308)`);
    const response = new Response(null, { status: s });
    response.#headers.set('location', href);
    return response;
  }

  static error() {
    const response = new Response(null);
    response.#status = 0;
    response.#type = 'error';
    return response;
  }

  get type() {
    return this.#type;
  }

  get url() {
    return '';
  }

  get redirected() {
    return false;
  }

  get status() {
    return this.#status;
  }

  get ok() {
    return this.#status >= 200 && this.#status <= 299;
  }

  get statusText() {
    return this.#statusText;
  }

  get headers() {
    return this.#headers;
  }

  clone() {
    const state = cloneBodyState(this, 'Response.clone()');
    const copy = new Response(null, { headers: this.#headers });
    copy.#status = this.#status;
    copy.#statusText = this.#statusText;
    copy.#type = this.#type;
    bodyStates.set(copy, state);
    return copy;
  }
}
installBodyMethods(Response);
setToStringTag(Response.prototype, 'Response');

// The bytes a response will send, without marking the body used. Null when there is no body.
export function responseBodyBytes(response) {
  const state = bodyStateOf(response, 'responseBodyBytes');
  if (state.used) throw new TypeError('the Response body was already read by the handler; return a new Response (or a clone()) instead');
  return state.bytes;
}

defineGlobal('Request', Request);
defineGlobal('Response', Response);
