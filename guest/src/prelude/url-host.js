// url-host.js — percent-encoding and the host parser of the WHATWG URL Standard.
//
// Host names: ASCII is lower-cased; non-ASCII labels are NFC-normalised, lower-cased and Punycode
// encoded (a close approximation of UTS #46 without its mapping tables). IPv4 (including the hex
// and octal forms) and IPv6 follow the standard.

import { utf8Encode, utf8Decode } from './internal.js';

export const SPECIAL_PORTS = { ftp: 21, file: null, http: 80, https: 443, ws: 80, wss: 443 };

export function isSpecialScheme(scheme) {
  return Object.prototype.hasOwnProperty.call(SPECIAL_PORTS, scheme);
}

// ---- percent-encoding -------------------------------------------------------------------------
//
// A percent-encode set is a table over ASCII (1 = encode); every code point above 0x7e is in every
// set. Tables keep the per-character test of the parser a single array read.

function percentEncodeSet(extra) {
  const set = new Uint8Array(128);
  for (let c = 0; c < 0x20; c++) set[c] = 1;
  set[0x7f] = 1;
  for (let i = 0; i < extra.length; i++) set[extra.charCodeAt(i)] = 1;
  return set;
}
export const isC0Control = percentEncodeSet('');
export const isFragmentSet = percentEncodeSet(' "<>`');
export const isQuerySet = percentEncodeSet(' "#<>');
export const isSpecialQuerySet = percentEncodeSet(' "#<>\'');
export const isPathSet = percentEncodeSet(' "#<>?`{}');
export const isUserinfoSet = percentEncodeSet(' "#<>?`{}/:;=@[\\]^|');

function inEncodeSet(cp, set) {
  return cp >= 0x80 || set[cp] === 1;
}

export function utf8Bytes(codePoint) {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 63)];
  if (codePoint < 0x10000) return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63)];
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 63), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63)];
}

export function hexByte(b) {
  return '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
}

// Percent-encode one code point (given as a string) if it is in the set.
export function encodeCodePoint(ch, set) {
  const cp = ch.codePointAt(0);
  if (!inEncodeSet(cp, set)) return ch;
  let out = '';
  for (const b of utf8Bytes(cp)) out += hexByte(b);
  return out;
}

// Runs of characters outside the set are copied with one slice instead of one by one.
export function encodeString(s, set) {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && set[c] === 0) continue;
    const cp = s.codePointAt(i);
    out += s.slice(from, i) + encodeCodePoint(String.fromCodePoint(cp), set);
    if (cp > 0xffff) i++;
    from = i + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}

function isHexDigit(c) {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// Percent-decode the UTF-8 bytes of s (the standard's "percent-decode a string").
export function percentDecodeBytes(s) {
  const bytes = utf8Encode(s);
  const out = new Uint8Array(bytes.length);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length && isHexDigit(bytes[i + 1]) && isHexDigit(bytes[i + 2])) {
      out[o++] = parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16);
      i += 2;
    } else {
      out[o++] = b;
    }
  }
  return out.subarray(0, o);
}

// ---- hosts ------------------------------------------------------------------------------------

const FORBIDDEN_HOST = /[\0\t\n\r #/:<>?@[\\\]^|]/;
const FORBIDDEN_DOMAIN = /[\0-\x1f #%/:<>?@[\\\]^|\x7f]/;

function parseIPv4Number(s) {
  if (s === '') return NaN;
  let radix = 10;
  if (s.length >= 2 && (s.slice(0, 2) === '0x' || s.slice(0, 2) === '0X')) {
    radix = 16;
    s = s.slice(2);
  } else if (s.length >= 2 && s[0] === '0') {
    radix = 8;
    s = s.slice(1);
  }
  if (s === '') return 0;
  const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(s)) return NaN;
  return parseInt(s, radix);
}

function endsInANumber(host) {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '') {
    if (parts.length === 1) return false;
    parts.pop();
  }
  const last = parts[parts.length - 1];
  if (last !== '' && /^[0-9]+$/.test(last)) return true;
  return !isNaN(parseIPv4Number(last));
}

// Returns the serialized IPv4 address, or null on failure.
function parseIPv4(host) {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length > 4) return null;
  const numbers = [];
  for (const part of parts) {
    const n = parseIPv4Number(part);
    if (isNaN(n)) return null;
    numbers.push(n);
  }
  for (let i = 0; i < numbers.length - 1; i++) if (numbers[i] > 255) return null;
  const last = numbers[numbers.length - 1];
  if (last >= Math.pow(256, 5 - numbers.length)) return null;
  let address = last;
  for (let i = 0; i < numbers.length - 1; i++) address += numbers[i] * Math.pow(256, 3 - i);
  const out = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(String(address % 256));
    address = Math.floor(address / 256);
  }
  return out.join('.');
}

// Returns eight 16-bit pieces, or null on failure.
function parseIPv6(input) {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0;
  let compress = null;
  let p = 0;
  const c = (i) => (i < input.length ? input.charCodeAt(i) : -1);
  const isDigit = (x) => x >= 0x30 && x <= 0x39;
  if (c(p) === 0x3a) {
    if (c(p + 1) !== 0x3a) return null;
    p += 2;
    pieceIndex++;
    compress = pieceIndex;
  }
  while (c(p) !== -1) {
    if (pieceIndex === 8) return null;
    if (c(p) === 0x3a) {
      if (compress !== null) return null;
      p++;
      pieceIndex++;
      compress = pieceIndex;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && isHexDigit(c(p))) {
      value = value * 16 + parseInt(input[p], 16);
      p++;
      length++;
    }
    if (c(p) === 0x2e) {
      // An embedded IPv4 address in the last two pieces.
      if (length === 0) return null;
      p -= length;
      if (pieceIndex > 6) return null;
      let numbersSeen = 0;
      while (c(p) !== -1) {
        let ipv4Piece = null;
        if (numbersSeen > 0) {
          if (c(p) === 0x2e && numbersSeen < 4) p++;
          else return null;
        }
        if (!isDigit(c(p))) return null;
        while (isDigit(c(p))) {
          const n = c(p) - 0x30;
          if (ipv4Piece === null) ipv4Piece = n;
          else if (ipv4Piece === 0) return null;
          else ipv4Piece = ipv4Piece * 10 + n;
          if (ipv4Piece > 255) return null;
          p++;
        }
        address[pieceIndex] = address[pieceIndex] * 0x100 + ipv4Piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return null;
      break;
    } else if (c(p) === 0x3a) {
      p++;
      if (c(p) === -1) return null;
    } else if (c(p) !== -1) {
      return null;
    }
    address[pieceIndex] = value;
    pieceIndex++;
  }
  if (compress !== null) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const t = address[pieceIndex];
      address[pieceIndex] = address[compress + swaps - 1];
      address[compress + swaps - 1] = t;
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) {
    return null;
  }
  return address;
}

function serializeIPv6(address) {
  // Compress the first longest run of two or more zero pieces.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (address[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLength - 1;
      continue;
    }
    out += address[i].toString(16);
    if (i !== 7) out += ':';
  }
  return out;
}

// Punycode (RFC 3492) encoding of one label.
function punycodeEncode(label) {
  const input = Array.from(label, (ch) => ch.codePointAt(0));
  const base = 36;
  const adapt = (delta, numPoints, first) => {
    delta = first ? Math.floor(delta / 700) : delta >> 1;
    delta += Math.floor(delta / numPoints);
    let k = 0;
    while (delta > 455) {
      delta = Math.floor(delta / 35);
      k += base;
    }
    return k + Math.floor((36 * delta) / (delta + 38));
  };
  const digit = (d) => String.fromCharCode(d < 26 ? d + 97 : d + 22);
  let output = '';
  for (const cp of input) if (cp < 0x80) output += String.fromCharCode(cp);
  const basicLength = output.length;
  let handled = basicLength;
  if (basicLength > 0) output += '-';
  let n = 128;
  let delta = 0;
  let bias = 72;
  while (handled < input.length) {
    let m = 0x7fffffff;
    for (const cp of input) if (cp >= n && cp < m) m = cp;
    delta += (m - n) * (handled + 1);
    n = m;
    for (const cp of input) {
      if (cp < n) delta++;
      if (cp === n) {
        let q = delta;
        for (let k = base; ; k += base) {
          const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
          if (q < t) break;
          output += digit(t + ((q - t) % (base - t)));
          q = Math.floor((q - t) / (base - t));
        }
        output += digit(q);
        bias = adapt(delta, handled + 1, handled === basicLength);
        delta = 0;
        handled++;
      }
    }
    delta++;
    n++;
  }
  return output;
}

function domainToASCII(domain) {
  let d = domain.replace(/[\u3002\uff0e\uff61]/g, '.');
  if (/[^\x00-\x7f]/.test(d)) {
    if (typeof d.normalize === 'function') d = d.normalize('NFC');
    d = d.toLowerCase();
    d = d
      .split('.')
      .map((label) => (/[^\x00-\x7f]/.test(label) ? 'xn--' + punycodeEncode(label) : label))
      .join('.');
  } else {
    d = d.toLowerCase();
  }
  return d === '' ? null : d;
}

// The host parser. Returns the serialized host, or null on failure.
export function parseHost(input, isOpaque) {
  if (input[0] === '[') {
    if (input[input.length - 1] !== ']') return null;
    const address = parseIPv6(input.slice(1, -1));
    return address === null ? null : '[' + serializeIPv6(address) + ']';
  }
  if (isOpaque) {
    if (FORBIDDEN_HOST.test(input)) return null;
    return encodeString(input, isC0Control);
  }
  const domain = utf8Decode(percentDecodeBytes(input), false);
  const ascii = domainToASCII(domain);
  if (ascii === null || FORBIDDEN_DOMAIN.test(ascii)) return null;
  if (endsInANumber(ascii)) return parseIPv4(ascii);
  return ascii;
}
