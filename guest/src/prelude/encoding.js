// encoding.js — TextEncoder, TextDecoder (UTF-8 only), atob, btoa.

import {
  defineGlobal,
  setToStringTag,
  requireArgs,
  typedArrayKind,
  bytesView,
  concatBytes,
  toUSVString,
  utf8Encode,
  utf8Decode,
  charCodesToString,
  base64Encode,
  base64Decode,
  DOMException,
} from './internal.js';

class TextEncoder {
  get encoding() {
    return 'utf-8';
  }

  encode(input = '') {
    return utf8Encode(input);
  }

  // Encodes as much of `source` as fits into `destination` without splitting a character.
  encodeInto(source, destination) {
    requireArgs(arguments, 2, 'TextEncoder.encodeInto');
    if (typedArrayKind(destination) !== 'Uint8Array') {
      throw new TypeError('TextEncoder.encodeInto: destination must be a Uint8Array');
    }
    const s = toUSVString(source);
    const cap = destination.length;
    let read = 0;
    let written = 0;
    while (read < s.length) {
      const cp = s.codePointAt(read);
      const units = cp > 0xffff ? 2 : 1;
      const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (written + size > cap) break;
      if (size === 1) {
        destination[written] = cp;
      } else if (size === 2) {
        destination[written] = 0xc0 | (cp >> 6);
        destination[written + 1] = 0x80 | (cp & 63);
      } else if (size === 3) {
        destination[written] = 0xe0 | (cp >> 12);
        destination[written + 1] = 0x80 | ((cp >> 6) & 63);
        destination[written + 2] = 0x80 | (cp & 63);
      } else {
        destination[written] = 0xf0 | (cp >> 18);
        destination[written + 1] = 0x80 | ((cp >> 12) & 63);
        destination[written + 2] = 0x80 | ((cp >> 6) & 63);
        destination[written + 3] = 0x80 | (cp & 63);
      }
      written += size;
      read += units;
    }
    return { read, written };
  }
}
setToStringTag(TextEncoder.prototype, 'TextEncoder');

// The WHATWG Encoding labels for UTF-8.
const UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8'];

// Where a trailing, possibly incomplete UTF-8 sequence starts (bytes.length if there is none).
// Streaming decode keeps those bytes for the next call, so the native decoder only ever sees
// whole sequences and the concatenated output equals a one-shot decode.
function incompleteUtf8Tail(bytes) {
  const n = bytes.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = bytes[i];
    if (b < 0x80) return n;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return n - i < need ? i : n;
    }
  }
  return n;
}

class TextDecoder {
  #fatal;
  #ignoreBOM;
  #pending = null; // bytes held back by a streaming decode
  #started = false; // whether this stream has produced bytes yet (the BOM is only stripped at the start)

  constructor(label = 'utf-8', options = undefined) {
    const normalized = String(label)
      .replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '')
      .toLowerCase();
    if (UTF8_LABELS.indexOf(normalized) < 0) {
      throw new RangeError(`TextDecoder: the encoding "${label}" is not supported; fn supports only utf-8`);
    }
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('TextDecoder: options must be an object');
    }
    this.#fatal = Boolean(options && options.fatal);
    this.#ignoreBOM = Boolean(options && options.ignoreBOM);
  }

  get encoding() {
    return 'utf-8';
  }

  get fatal() {
    return this.#fatal;
  }

  get ignoreBOM() {
    return this.#ignoreBOM;
  }

  decode(input = undefined, options = undefined) {
    let bytes = input === undefined ? new Uint8Array(0) : bytesView(input);
    if (bytes === null) throw new TypeError('TextDecoder.decode: input must be an ArrayBuffer or an ArrayBufferView');
    const stream = Boolean(options && options.stream);
    if (this.#pending !== null) {
      bytes = concatBytes(this.#pending, bytes);
      this.#pending = null;
    }
    if (stream) {
      const cut = incompleteUtf8Tail(bytes);
      if (cut < bytes.length) {
        this.#pending = bytes.slice(cut);
        bytes = bytes.subarray(0, cut);
      }
    }
    if (!this.#started && bytes.length > 0) {
      this.#started = true;
      if (!this.#ignoreBOM && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3);
      }
    }
    if (!stream) {
      // The end of a stream: the next decode() starts a new one.
      this.#started = false;
      this.#pending = null;
    }
    return utf8Decode(bytes, this.#fatal);
  }
}
setToStringTag(TextDecoder.prototype, 'TextDecoder');

function btoa(data) {
  requireArgs(arguments, 1, 'btoa');
  const s = String(data);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      throw new DOMException('btoa: the string contains characters outside of the Latin1 range (encode it as UTF-8 bytes first)', 'InvalidCharacterError');
    }
    bytes[i] = c;
  }
  return base64Encode(bytes);
}

function atob(data) {
  requireArgs(arguments, 1, 'atob');
  const bytes = base64Decode(String(data));
  if (bytes === null) throw new DOMException('atob: the string to be decoded is not correctly encoded base64', 'InvalidCharacterError');
  return charCodesToString(bytes);
}

defineGlobal('TextEncoder', TextEncoder);
defineGlobal('TextDecoder', TextDecoder);
defineGlobal('btoa', btoa);
defineGlobal('atob', atob);
