// blob.js — Blob, File and FormData, with the multipart/form-data encoding and parsing that
// Request/Response bodies use (body.js). Blobs are byte arrays in memory: no stream().

import {
  defineGlobal,
  setToStringTag,
  requireArgs,
  isObjectLike,
  describeValue,
  bytesView,
  exactArrayBuffer,
  utf8Encode,
  utf8Decode,
  concatBytes,
  createPairIteratorFactory,
} from './internal.js';

const blobBytes = new WeakMap();
const blobMeta = new WeakMap(); // Blob → { type, name, lastModified }

function partBytes(part) {
  if (part instanceof Blob) return blobBytes.get(part);
  const view = bytesView(part);
  if (view !== null) return view.slice();
  return utf8Encode(String(part));
}

export class Blob {
  constructor(parts, options) {
    let bytes = new Uint8Array(0);
    if (parts !== undefined) {
      if (!isObjectLike(parts) || typeof parts[Symbol.iterator] !== 'function') {
        throw new TypeError(`Blob: the parts must be an iterable (such as an array), got ${describeValue(parts)}`);
      }
      const chunks = Array.from(parts, partBytes);
      let size = 0;
      for (const c of chunks) size += c.length;
      bytes = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
    }
    const type = options !== undefined && options !== null && options.type !== undefined ? String(options.type) : '';
    blobBytes.set(this, bytes);
    blobMeta.set(this, { type: /[^\u0020-\u007e]/.test(type) ? '' : type.toLowerCase(), name: '', lastModified: 0 });
  }
  get size() {
    return blobBytes.get(this).length;
  }
  get type() {
    return blobMeta.get(this).type;
  }
  async arrayBuffer() {
    return exactArrayBuffer(blobBytes.get(this).slice());
  }
  async bytes() {
    return blobBytes.get(this).slice();
  }
  async text() {
    return utf8Decode(blobBytes.get(this), false);
  }
  slice(start, end, contentType) {
    const bytes = blobBytes.get(this);
    const len = bytes.length;
    const rel = (v, d) => {
      if (v === undefined) return d;
      const n = Math.trunc(Number(v)) || 0;
      return n < 0 ? Math.max(len + n, 0) : Math.min(n, len);
    };
    const from = rel(start, 0);
    const to = rel(end, len);
    return new Blob([bytes.subarray(from, Math.max(from, to))], { type: contentType === undefined ? '' : contentType });
  }
}
setToStringTag(Blob.prototype, 'Blob');

export class File extends Blob {
  constructor(parts, name, options) {
    requireArgs(arguments, 2, 'File');
    super(parts, options);
    const meta = blobMeta.get(this);
    meta.name = String(name);
    meta.lastModified = options !== undefined && options !== null && options.lastModified !== undefined ? Number(options.lastModified) : Date.now();
  }
  get name() {
    return blobMeta.get(this).name;
  }
  get lastModified() {
    return blobMeta.get(this).lastModified;
  }
}
setToStringTag(File.prototype, 'File');

/** Bytes of a Blob, for body.js. */
export function bytesOfBlob(blob) {
  return blobBytes.get(blob);
}

// ---- FormData ---------------------------------------------------------------------------------

const formEntries = new WeakMap();

function entryValue(value, filename, what) {
  if (value instanceof Blob) {
    if (value instanceof File && filename === undefined) return value;
    return new File([value], filename === undefined ? 'blob' : String(filename), { type: value.type });
  }
  if (filename !== undefined) throw new TypeError(`${what}: a filename is only allowed with a Blob value`);
  return String(value);
}

function entriesOf(form, what) {
  const list = formEntries.get(form);
  if (list === undefined) throw new TypeError(`${what} called on an object that is not a FormData`);
  return list;
}

export class FormData {
  constructor(form) {
    if (form !== undefined) throw new TypeError('FormData: there are no HTML forms in fn; create it empty and append()');
    formEntries.set(this, []);
  }
  append(name, value, filename) {
    requireArgs(arguments, 2, 'FormData.append');
    entriesOf(this, 'FormData.append').push([String(name), entryValue(value, filename, 'FormData.append')]);
  }
  set(name, value, filename) {
    requireArgs(arguments, 2, 'FormData.set');
    const list = entriesOf(this, 'FormData.set');
    const key = String(name);
    const entry = [key, entryValue(value, filename, 'FormData.set')];
    const first = list.findIndex((e) => e[0] === key);
    if (first < 0) {
      list.push(entry);
      return;
    }
    list[first] = entry;
    for (let i = list.length - 1; i > first; i--) if (list[i][0] === key) list.splice(i, 1);
  }
  get(name) {
    requireArgs(arguments, 1, 'FormData.get');
    const e = entriesOf(this, 'FormData.get').find((x) => x[0] === String(name));
    return e === undefined ? null : e[1];
  }
  getAll(name) {
    requireArgs(arguments, 1, 'FormData.getAll');
    return entriesOf(this, 'FormData.getAll')
      .filter((x) => x[0] === String(name))
      .map((x) => x[1]);
  }
  has(name) {
    requireArgs(arguments, 1, 'FormData.has');
    return entriesOf(this, 'FormData.has').some((x) => x[0] === String(name));
  }
  delete(name) {
    requireArgs(arguments, 1, 'FormData.delete');
    const list = entriesOf(this, 'FormData.delete');
    for (let i = list.length - 1; i >= 0; i--) if (list[i][0] === String(name)) list.splice(i, 1);
  }
  forEach(callback, thisArg) {
    if (typeof callback !== 'function') throw new TypeError('FormData.forEach: the callback must be a function');
    for (const [k, v] of entriesOf(this, 'FormData.forEach').slice()) callback.call(thisArg, v, k, this);
  }
}
const pairIterator = createPairIteratorFactory('FormData Iterator');
function iteratorOf(form, kind) {
  const list = entriesOf(form, 'FormData iterator');
  return pairIterator(() => list, kind);
}
Object.defineProperty(FormData.prototype, 'entries', {
  value: function entries() {
    return iteratorOf(this, 'entries');
  },
  writable: true,
  configurable: true,
});
Object.defineProperty(FormData.prototype, 'keys', {
  value: function keys() {
    return iteratorOf(this, 'keys');
  },
  writable: true,
  configurable: true,
});
Object.defineProperty(FormData.prototype, 'values', {
  value: function values() {
    return iteratorOf(this, 'values');
  },
  writable: true,
  configurable: true,
});
Object.defineProperty(FormData.prototype, Symbol.iterator, { value: FormData.prototype.entries, writable: true, configurable: true });
setToStringTag(FormData.prototype, 'FormData');

// ---- multipart/form-data ----------------------------------------------------------------------

const escapeName = (s) =>
  s
    .replace(/\r\n|\r|\n/g, '\r\n')
    .replace(/"/g, '%22')
    .replace(/\r/g, '%0D')
    .replace(/\n/g, '%0A');

/** { bytes, type } of a FormData as multipart/form-data. */
export function encodeMultipart(form, randomHex) {
  const boundary = `----fnFormBoundary${randomHex}`;
  let out = new Uint8Array(0);
  for (const [name, value] of entriesOf(form, 'multipart encoding')) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"`;
    let body;
    if (value instanceof File) {
      head += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}`;
      body = blobBytes.get(value);
    } else {
      body = utf8Encode(value.replace(/\r\n|\r|\n/g, '\r\n'));
    }
    out = concatBytes(concatBytes(concatBytes(out, utf8Encode(`${head}\r\n\r\n`)), body), utf8Encode('\r\n'));
  }
  out = concatBytes(out, utf8Encode(`--${boundary}--\r\n`));
  return { bytes: out, type: `multipart/form-data; boundary=${boundary}` };
}

function indexOfBytes(haystack, needle, from) {
  const first = needle[0];
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function headerParam(header, param) {
  const m = new RegExp(`;\\s*${param}\\*?=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  return m === null ? null : m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

/** Parses a multipart/form-data body into a FormData; throws TypeError when it is malformed. */
export function parseMultipart(bytes, contentType, what) {
  const boundary = headerParam(contentType, 'boundary');
  if (!boundary) throw new TypeError(`${what}: the multipart/form-data content type has no boundary`);
  const form = new FormData();
  const delimiter = utf8Encode(`--${boundary}`);
  let at = indexOfBytes(bytes, delimiter, 0);
  if (at < 0) throw new TypeError(`${what}: the multipart body has no "--${boundary}" delimiter`);
  for (;;) {
    at += delimiter.length;
    if (bytes[at] === 0x2d && bytes[at + 1] === 0x2d) return form; // "--": the closing delimiter
    if (bytes[at] === 0x0d && bytes[at + 1] === 0x0a) at += 2;
    const headEnd = indexOfBytes(bytes, utf8Encode('\r\n\r\n'), at);
    if (headEnd < 0) throw new TypeError(`${what}: a multipart part has no end of headers`);
    const head = utf8Decode(bytes.subarray(at, headEnd), false);
    const next = indexOfBytes(bytes, delimiter, headEnd + 4);
    if (next < 0) throw new TypeError(`${what}: the multipart body ends without its closing delimiter`);
    const body = bytes.subarray(headEnd + 4, next >= 2 && bytes[next - 2] === 0x0d && bytes[next - 1] === 0x0a ? next - 2 : next);
    let disposition = '';
    let type = '';
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === 'content-disposition') disposition = line.slice(colon + 1);
      else if (name === 'content-type') type = line.slice(colon + 1).trim();
    }
    const name = headerParam(disposition, 'name');
    if (name === null) throw new TypeError(`${what}: a multipart part has no Content-Disposition name`);
    const filename = headerParam(disposition, 'filename');
    if (filename !== null) form.append(name, new File([body], filename, { type }));
    else form.append(name, utf8Decode(body, false));
    at = next;
  }
}

defineGlobal('Blob', Blob);
defineGlobal('File', File);
defineGlobal('FormData', FormData);
