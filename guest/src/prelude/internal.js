// internal.js — private helpers shared by every prelude file.
//
// The prelude's files are ES modules that import what they use from each other; esbuild bundles
// them (scripts/bundle-prelude.mjs, from index.js) into one script, so what a module exports is
// visible to the other modules but never to user code. Only what a module attaches to globalThis
// with defineGlobal() is public. Stay within ES2020: the guest engine is QuickJS 2021-03-27.

// The C runtime hands us its primitives on a global; keep a private reference and remove the global
// so user code cannot reach (or replace) them.
export const native = globalThis.__fn_native;
if (native === null || typeof native !== 'object' || typeof native.now !== 'function') {
  throw new Error('fn prelude: globalThis.__fn_native is missing; the runtime must define it before the prelude runs');
}
delete globalThis.__fn_native;
export const nativeInfo = native.info !== null && typeof native.info === 'object' ? native.info : {};

// Built-ins the runtime answers with, taken before any user code runs. A function may replace
// JSON.stringify, Number.isInteger, Set.prototype.has, RegExp.prototype.exec, String, … for its
// own use; the runtime keeps building its output with these, so a function that poisons them
// gets its own answer (or its own error), never a VM the host must discard for bad output.
const intrinsicStringify = JSON.stringify;
const intrinsicApply = Reflect.apply;
const intrinsicIsInteger = Number.isInteger;
const intrinsicSetHas = Set.prototype.has;
const intrinsicRegExpExec = RegExp.prototype.exec;
const intrinsicString = String;
export const intrinsics = Object.freeze({
  /** A JSON string literal of `s`, a string primitive (for a primitive no toJSON is consulted). */
  jsonString: (s) => intrinsicStringify(typeof s === 'string' ? s : intrinsicString(s)),
  isInteger: (n) => intrinsicIsInteger(n),
  setHas: (set, value) => intrinsicApply(intrinsicSetHas, set, [value]),
  /** Whether the regular expression (not global, not sticky) matches somewhere in `s`. */
  matches: (re, s) => intrinsicApply(intrinsicRegExpExec, re, [s]) !== null,
  string: (v) => intrinsicString(v),
});

// Globals look like the ones browsers define: non-enumerable, writable, configurable.
export function defineGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, writable: true, enumerable: false, configurable: true });
}

// Methods on plain objects (console, crypto, ...) are non-enumerable like WebIDL operations.
export function defineMethods(target, methods) {
  for (const name of Object.keys(methods)) {
    Object.defineProperty(target, name, { value: methods[name], writable: true, enumerable: false, configurable: true });
  }
  return target;
}

export function setToStringTag(target, tag) {
  Object.defineProperty(target, Symbol.toStringTag, { value: tag, writable: false, enumerable: false, configurable: true });
}

// Per-invocation clock origin (performance.now(), log timestamps). Reset by the dispatcher.
export const clock = { startMs: native.now() };
export function sinceStartMs() {
  return Math.round((native.now() - clock.startMs) * 1000) / 1000;
}

export function requireArgs(args, count, what) {
  if (args.length < count) {
    throw new TypeError(`${what}: ${count} argument${count === 1 ? '' : 's'} required, but only ${args.length} present`);
  }
}

export function isObjectLike(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

// A short description of a value for error messages ("got undefined", "got an object of type Foo").
export function describeValue(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
  if (typeof value === 'function') return 'a function';
  let name = '';
  try {
    const proto = Object.getPrototypeOf(value);
    name = proto && proto.constructor && typeof proto.constructor.name === 'string' ? proto.constructor.name : '';
  } catch (e) {
    name = '';
  }
  return name && name !== 'Object' ? `an object of type ${name}` : 'an object';
}

// ---- typed arrays and bytes -------------------------------------------------------------------

// The %TypedArray%.prototype[@@toStringTag] getter tells real typed arrays (and their kind) apart
// from look-alikes without trusting user-controlled properties.
const typedArrayTagGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
export function typedArrayKind(value) {
  if (!ArrayBuffer.isView(value)) return undefined;
  return typedArrayTagGetter.call(value);
}

function isArrayBuffer(value) {
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

// BufferSource → Uint8Array view over the same memory (no copy), or null if it is not one.
export function bytesView(value) {
  if (isArrayBuffer(value)) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

export function concatBytes(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// An ArrayBuffer holding exactly these bytes; reuses the buffer when the view covers all of it.
export function exactArrayBuffer(bytes) {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

// ---- strings ----------------------------------------------------------------------------------

// WebIDL USVString: String(value) with lone surrogates replaced by U+FFFD.
export function toUSVString(value) {
  const s = typeof value === 'string' ? value : String(value);
  if (!/[\uD800-\uDFFF]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
        continue;
      }
    }
    out += c >= 0xd800 && c <= 0xdfff ? '\uFFFD' : s[i];
  }
  return out;
}

// UTF-8 through the native codec, which also replaces lone surrogates with U+FFFD (the C side fixes
// the WTF-8 that QuickJS produces for them), so strings need no pass in JavaScript first.
export function utf8Encode(value) {
  return native.encodeUtf8(typeof value === 'string' ? value : String(value));
}

export function utf8Decode(bytes, fatal) {
  return native.decodeUtf8(bytes, fatal === true);
}

// Bytes that a string takes in UTF-8 (a lone surrogate counts 3, as U+FFFD). Encoding it in C and
// dropping the copy is far faster than counting in a JavaScript loop, which QuickJS runs at some
// 15 ns a character.
export function utf8Length(s) {
  return native.encodeUtf8(s).length;
}

// The longest prefix of s that fits in maxBytes of UTF-8, never splitting a surrogate pair.
export function truncateUtf8(s, maxBytes) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let size = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    let units = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size = 4;
      units = 2;
    }
    if (n + size > maxBytes) return s.slice(0, i);
    n += size;
    i += units - 1;
  }
  return s;
}

// String.fromCharCode over large arrays in slices: QuickJS caps the argument count of apply().
export function charCodesToString(codes) {
  const CHUNK = 8192;
  if (codes.length <= CHUNK) return String.fromCharCode.apply(null, codes);
  const parts = [];
  for (let i = 0; i < codes.length; i += CHUNK) {
    parts.push(String.fromCharCode.apply(null, codes.subarray(i, Math.min(i + CHUNK, codes.length))));
  }
  return parts.join('');
}

// ---- base64 (used by atob/btoa and the Lambda adapter) ----------------------------------------
//
// Bodies of several MB go through here (Lambda binary bodies), so the loops work on typed arrays:
// in QuickJS indexing a typed array is far cheaper than calling charCodeAt per character, and the
// native UTF-8 codec turns the ASCII bytes into a string (and back) in C.

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUES = new Uint8Array(256).fill(255); // byte → 6-bit value, 255 if not base64
for (let i = 0; i < 64; i++) BASE64_VALUES[BASE64_ALPHABET.charCodeAt(i)] = i;
// 12 bits → their two base64 characters, stored in memory order so one Uint16Array write emits both.
const BASE64_PAIRS = new Uint16Array(4096);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
for (let i = 0; i < 4096; i++) {
  const first = BASE64_ALPHABET.charCodeAt(i >> 6);
  const second = BASE64_ALPHABET.charCodeAt(i & 63);
  BASE64_PAIRS[i] = LITTLE_ENDIAN ? first | (second << 8) : (first << 8) | second;
}

export function base64Encode(bytes) {
  const n = bytes.length;
  const whole = n - (n % 3);
  const pairs = new Uint16Array(Math.ceil(n / 3) * 2);
  let o = 0;
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    pairs[o++] = BASE64_PAIRS[v >> 12];
    pairs[o++] = BASE64_PAIRS[v & 4095];
  }
  const out = new Uint8Array(pairs.buffer);
  if (whole < n) {
    const v = (bytes[whole] << 16) | (whole + 1 < n ? bytes[whole + 1] << 8 : 0);
    const at = o * 2;
    out[at] = BASE64_ALPHABET.charCodeAt(v >> 18);
    out[at + 1] = BASE64_ALPHABET.charCodeAt((v >> 12) & 63);
    out[at + 2] = whole + 1 < n ? BASE64_ALPHABET.charCodeAt((v >> 6) & 63) : 61; // '='
    out[at + 3] = 61;
  }
  return utf8Decode(out, false);
}

// The WHATWG "forgiving-base64 decode": ASCII whitespace ignored, padding optional.
// Returns null when the input is not base64.
export function base64Decode(input) {
  let s = /[\t\n\f\r ]/.test(input) ? input.replace(/[\t\n\f\r ]+/g, '') : input;
  if (s.length % 4 === 0 && s.length > 0 && s.charCodeAt(s.length - 1) === 61) {
    s = s.slice(0, s.charCodeAt(s.length - 2) === 61 ? -2 : -1);
  }
  if (s.length % 4 === 1) return null;
  // Any character outside ASCII becomes bytes >= 0x80 here, which the table rejects.
  const chars = utf8Encode(s);
  const n = chars.length;
  const whole = n - (n % 4);
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = BASE64_VALUES[chars[i]];
    const b = BASE64_VALUES[chars[i + 1]];
    const c = BASE64_VALUES[chars[i + 2]];
    const d = BASE64_VALUES[chars[i + 3]];
    if ((a | b | c | d) > 63) return null;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (whole < n) {
    // 2 or 3 characters left: 1 or 2 more bytes (leftover bits are ignored, as the standard says).
    const a = BASE64_VALUES[chars[whole]];
    const b = BASE64_VALUES[chars[whole + 1]];
    const c = whole + 2 < n ? BASE64_VALUES[chars[whole + 2]] : 0;
    if ((a | b | c) > 63) return null;
    const v = (a << 18) | (b << 12) | (c << 6);
    out[o++] = v >> 16;
    if (whole + 2 < n) out[o++] = (v >> 8) & 255;
  }
  return out;
}

// ---- DOMException -----------------------------------------------------------------------------

const DOM_EXCEPTION_CODES = {
  IndexSizeError: 1,
  HierarchyRequestError: 3,
  WrongDocumentError: 4,
  InvalidCharacterError: 5,
  NoModificationAllowedError: 7,
  NotFoundError: 8,
  NotSupportedError: 9,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidModificationError: 13,
  NamespaceError: 14,
  InvalidAccessError: 15,
  TypeMismatchError: 17,
  SecurityError: 18,
  NetworkError: 19,
  AbortError: 20,
  URLMismatchError: 21,
  QuotaExceededError: 22,
  TimeoutError: 23,
  InvalidNodeTypeError: 24,
  DataCloneError: 25,
};

export class DOMException extends Error {
  #name;
  constructor(message = '', name = 'Error') {
    super(String(message));
    this.#name = String(name);
  }
  get name() {
    return this.#name;
  }
  get code() {
    const code = DOM_EXCEPTION_CODES[this.#name];
    return code === undefined ? 0 : code;
  }
}
setToStringTag(DOMException.prototype, 'DOMException');
defineGlobal('DOMException', DOMException);

// ---- iterators (Headers, URLSearchParams) -----------------------------------------------------

const ArrayIteratorPrototype = Object.getPrototypeOf([][Symbol.iterator]());
const IteratorPrototype = Object.getPrototypeOf(ArrayIteratorPrototype);
const arrayValues = Array.prototype[Symbol.iterator];
const arrayIteratorNext = ArrayIteratorPrototype.next;

// An array that iterates as its elements: iterating it (Array.from) would give what indexing gives,
// so callers may index it directly, unless user code replaced the array iterator.
export function iteratesAsArray(value) {
  return Array.isArray(value) && value[Symbol.iterator] === arrayValues && ArrayIteratorPrototype.next === arrayIteratorNext;
}

// Builds a "pair iterator" factory per WebIDL: `source()` returns the current list of [key, value]
// pairs each time next() runs, so iteration sees changes made while iterating, like browsers.
export function createPairIteratorFactory(tag) {
  const states = new WeakMap();
  const proto = Object.create(IteratorPrototype);
  defineMethods(proto, {
    next() {
      const state = states.get(this);
      if (state === undefined) throw new TypeError(`next() called on an object that is not a ${tag}`);
      const list = state.source();
      if (state.index >= list.length) return { value: undefined, done: true };
      const pair = list[state.index++];
      const value = state.kind === 'keys' ? pair[0] : state.kind === 'values' ? pair[1] : [pair[0], pair[1]];
      return { value, done: false };
    },
  });
  setToStringTag(proto, tag);
  return function createIterator(source, kind) {
    const it = Object.create(proto);
    states.set(it, { source, kind, index: 0 });
    return it;
  };
}

// Error shape shared by console and the dispatcher: QuickJS's `stack` holds only the frames, V8's
// starts with "Name: message"; normalise to the latter.
export function errorParts(err) {
  if (isObjectLike(err)) {
    let name = 'Error';
    let message = '';
    let stack = '';
    try {
      name = err.name === undefined ? 'Error' : intrinsicString(err.name);
      message = err.message === undefined ? '' : intrinsicString(err.message);
      stack = typeof err.stack === 'string' ? err.stack : '';
    } catch (e) {
      // A hostile getter: keep what we have.
    }
    return { name, message, stack };
  }
  let message;
  try {
    message = intrinsicString(err);
  } catch (e) {
    message = typeof err;
  }
  return { name: 'Error', message, stack: '' };
}

export function formatError(err) {
  const p = errorParts(err);
  const header = p.message ? `${p.name}: ${p.message}` : p.name;
  if (!p.stack) return header;
  if (p.stack.indexOf(header) === 0 || p.stack.indexOf(p.name) === 0) return p.stack.replace(/\s+$/, '');
  return `${header}\n${p.stack.replace(/\s+$/, '')}`;
}
