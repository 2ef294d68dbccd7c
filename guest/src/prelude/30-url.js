// 30-url.js — URL and URLSearchParams, following the WHATWG URL Standard's basic URL parser.
//
// Host names: ASCII is lower-cased; non-ASCII labels are NFC-normalised, lower-cased and Punycode
// encoded (a close approximation of UTS #46 without its mapping tables). Everything else — special
// and opaque schemes, IPv4 (including hex/octal forms) and IPv6, dot segments, Windows drive
// letters in file URLs, percent-encoding sets and the setters — follows the standard.

const SPECIAL_PORTS = { 'ftp': 21, 'file': null, 'http': 80, 'https': 443, 'ws': 80, 'wss': 443 };

function isSpecialScheme(scheme) {
  return Object.prototype.hasOwnProperty.call(SPECIAL_PORTS, scheme);
}

// ---- percent-encoding -------------------------------------------------------------------------

const isC0Control = (c) => c < 0x20 || c > 0x7e;
const isFragmentSet = (c) => isC0Control(c) || c === 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60;
const isQuerySet = (c) => isC0Control(c) || c === 0x20 || c === 0x22 || c === 0x23 || c === 0x3c || c === 0x3e;
const isSpecialQuerySet = (c) => isQuerySet(c) || c === 0x27;
const isPathSet = (c) => isQuerySet(c) || c === 0x3f || c === 0x60 || c === 0x7b || c === 0x7d;
const isUserinfoSet = (c) => isPathSet(c) || c === 0x2f || c === 0x3a || c === 0x3b || c === 0x3d || c === 0x40 ||
  (c >= 0x5b && c <= 0x5e) || c === 0x7c;

function utf8Bytes(codePoint) {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 63)];
  if (codePoint < 0x10000) return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63)];
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 63), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63)];
}

function hexByte(b) {
  return '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
}

// Percent-encode one code point (given as a string) if it is in the set.
function encodeCodePoint(ch, inSet) {
  const cp = ch.codePointAt(0);
  if (!inSet(cp)) return ch;
  let out = '';
  for (const b of utf8Bytes(cp)) out += hexByte(b);
  return out;
}

function encodeString(s, inSet) {
  let out = '';
  for (const ch of s) out += encodeCodePoint(ch, inSet);
  return out;
}

function isHexDigit(c) {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// Percent-decode the UTF-8 bytes of s (the standard's "percent-decode a string").
function percentDecodeBytes(s) {
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
    d = d.split('.').map((label) => (/[^\x00-\x7f]/.test(label) ? 'xn--' + punycodeEncode(label) : label)).join('.');
  } else {
    d = d.toLowerCase();
  }
  return d === '' ? null : d;
}

// The host parser. Returns the serialized host, or null on failure.
function parseHost(input, isOpaque) {
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

// ---- the basic URL parser ---------------------------------------------------------------------

const S = {
  SCHEME_START: 1, SCHEME: 2, NO_SCHEME: 3, SPECIAL_RELATIVE_OR_AUTHORITY: 4, PATH_OR_AUTHORITY: 5,
  RELATIVE: 6, RELATIVE_SLASH: 7, SPECIAL_AUTHORITY_SLASHES: 8, SPECIAL_AUTHORITY_IGNORE_SLASHES: 9,
  AUTHORITY: 10, HOST: 11, HOSTNAME: 12, PORT: 13, FILE: 14, FILE_SLASH: 15, FILE_HOST: 16,
  PATH_START: 17, PATH: 18, OPAQUE_PATH: 19, QUERY: 20, FRAGMENT: 21,
};
const FAILURE = null;

function newURLRecord() {
  return { scheme: '', username: '', password: '', host: null, port: null, path: [], query: null, fragment: null };
}

function copyURLRecord(from, to) {
  to.scheme = from.scheme;
  to.username = from.username;
  to.password = from.password;
  to.host = from.host;
  to.port = from.port;
  to.path = typeof from.path === 'string' ? from.path : from.path.slice();
  to.query = from.query;
  to.fragment = from.fragment;
}

const isAsciiAlpha = (ch) => /^[A-Za-z]$/.test(ch);
const isAsciiDigit = (ch) => ch !== undefined && ch >= '0' && ch <= '9';
const isWindowsDriveLetter = (s) => s.length === 2 && isAsciiAlpha(s[0]) && (s[1] === ':' || s[1] === '|');
const isNormalizedWindowsDriveLetter = (s) => s.length === 2 && isAsciiAlpha(s[0]) && s[1] === ':';

function startsWithWindowsDriveLetter(cps, p) {
  if (cps.length - p < 2) return false;
  if (!isAsciiAlpha(cps[p]) || (cps[p + 1] !== ':' && cps[p + 1] !== '|')) return false;
  if (cps.length - p === 2) return true;
  const c = cps[p + 2];
  return c === '/' || c === '\\' || c === '?' || c === '#';
}

const isSingleDot = (s) => s === '.' || s.toLowerCase() === '%2e';
const isDoubleDot = (s) => {
  const l = s.toLowerCase();
  return l === '..' || l === '.%2e' || l === '%2e.' || l === '%2e%2e';
};

function shortenPath(url) {
  const path = url.path;
  if (url.scheme === 'file' && path.length === 1 && isNormalizedWindowsDriveLetter(path[0])) return;
  path.pop();
}

const includesCredentials = (url) => url.username !== '' || url.password !== '';
const hasOpaquePath = (url) => typeof url.path === 'string';

// Returns the URL record, or FAILURE. With a state override, `url` is modified in place and the
// return value only matters as FAILURE / not failure.
function basicURLParse(input, base, url, stateOverride) {
  if (!url) {
    url = newURLRecord();
    input = input.replace(/^[\0-\x20]+|[\0-\x20]+$/g, '');
  }
  input = input.replace(/[\t\n\r]/g, '');
  let state = stateOverride || S.SCHEME_START;
  let buffer = '';
  let atSignSeen = false;
  let insideBrackets = false;
  let passwordTokenSeen = false;
  const cps = Array.from(input);
  const special = () => isSpecialScheme(url.scheme);

  for (let p = 0; p <= cps.length; p++) {
    const c = cps[p]; // undefined is EOF
    switch (state) {
      case S.SCHEME_START:
        if (c !== undefined && isAsciiAlpha(c)) {
          buffer += c.toLowerCase();
          state = S.SCHEME;
        } else if (!stateOverride) {
          state = S.NO_SCHEME;
          p--;
        } else return FAILURE;
        break;

      case S.SCHEME:
        if (c !== undefined && /^[A-Za-z0-9+\-.]$/.test(c)) {
          buffer += c.toLowerCase();
        } else if (c === ':') {
          if (stateOverride) {
            if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
            if ((includesCredentials(url) || url.port !== null) && buffer === 'file') return url;
            if (url.scheme === 'file' && url.host === '') return url;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === SPECIAL_PORTS[url.scheme]) url.port = null;
            return url;
          }
          buffer = '';
          if (url.scheme === 'file') {
            state = S.FILE;
          } else if (special() && base && base.scheme === url.scheme) {
            state = S.SPECIAL_RELATIVE_OR_AUTHORITY;
          } else if (special()) {
            state = S.SPECIAL_AUTHORITY_SLASHES;
          } else if (cps[p + 1] === '/') {
            state = S.PATH_OR_AUTHORITY;
            p++;
          } else {
            url.path = '';
            state = S.OPAQUE_PATH;
          }
        } else if (!stateOverride) {
          buffer = '';
          state = S.NO_SCHEME;
          p = -1;
        } else return FAILURE;
        break;

      case S.NO_SCHEME:
        if (!base || (hasOpaquePath(base) && c !== '#')) return FAILURE;
        if (hasOpaquePath(base) && c === '#') {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = '';
          state = S.FRAGMENT;
        } else if (base.scheme !== 'file') {
          state = S.RELATIVE;
          p--;
        } else {
          state = S.FILE;
          p--;
        }
        break;

      case S.SPECIAL_RELATIVE_OR_AUTHORITY:
        if (c === '/' && cps[p + 1] === '/') {
          state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = S.RELATIVE;
          p--;
        }
        break;

      case S.PATH_OR_AUTHORITY:
        if (c === '/') state = S.AUTHORITY;
        else {
          state = S.PATH;
          p--;
        }
        break;

      case S.RELATIVE:
        url.scheme = base.scheme;
        if (c === '/' || (special() && c === '\\')) {
          state = S.RELATIVE_SLASH;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === '?') {
            url.query = '';
            state = S.QUERY;
          } else if (c === '#') {
            url.fragment = '';
            state = S.FRAGMENT;
          } else if (c !== undefined) {
            url.query = null;
            shortenPath(url);
            state = S.PATH;
            p--;
          }
        }
        break;

      case S.RELATIVE_SLASH:
        if (special() && (c === '/' || c === '\\')) {
          state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
        } else if (c === '/') {
          state = S.AUTHORITY;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          state = S.PATH;
          p--;
        }
        break;

      case S.SPECIAL_AUTHORITY_SLASHES:
        if (c === '/' && cps[p + 1] === '/') {
          state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p--;
        }
        break;

      case S.SPECIAL_AUTHORITY_IGNORE_SLASHES:
        if (c !== '/' && c !== '\\') {
          state = S.AUTHORITY;
          p--;
        }
        break;

      case S.AUTHORITY:
        if (c === '@') {
          if (atSignSeen) buffer = '%40' + buffer;
          atSignSeen = true;
          for (const ch of buffer) {
            if (ch === ':' && !passwordTokenSeen) {
              passwordTokenSeen = true;
              continue;
            }
            const encoded = encodeCodePoint(ch, isUserinfoSet);
            if (passwordTokenSeen) url.password += encoded;
            else url.username += encoded;
          }
          buffer = '';
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (special() && c === '\\')) {
          if (atSignSeen && buffer === '') return FAILURE;
          p -= Array.from(buffer).length + 1;
          buffer = '';
          state = S.HOST;
        } else {
          buffer += c;
        }
        break;

      case S.HOST:
      case S.HOSTNAME:
        if (stateOverride && url.scheme === 'file') {
          p--;
          state = S.FILE_HOST;
        } else if (c === ':' && !insideBrackets) {
          if (buffer === '') return FAILURE;
          if (stateOverride === S.HOSTNAME) return FAILURE;
          const host = parseHost(buffer, !special());
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = S.PORT;
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (special() && c === '\\')) {
          p--;
          if (special() && buffer === '') return FAILURE;
          if (stateOverride && buffer === '' && (includesCredentials(url) || url.port !== null)) return FAILURE;
          const host = parseHost(buffer, !special());
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = S.PATH_START;
          if (stateOverride) return url;
        } else {
          if (c === '[') insideBrackets = true;
          if (c === ']') insideBrackets = false;
          buffer += c;
        }
        break;

      case S.PORT:
        if (isAsciiDigit(c)) {
          buffer += c;
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (special() && c === '\\') || stateOverride) {
          if (buffer !== '') {
            const port = parseInt(buffer, 10);
            if (port > 65535) return FAILURE;
            url.port = port === SPECIAL_PORTS[url.scheme] ? null : port;
            buffer = '';
          }
          if (stateOverride) return url;
          state = S.PATH_START;
          p--;
        } else return FAILURE;
        break;

      case S.FILE:
        url.scheme = 'file';
        url.host = '';
        if (c === '/' || c === '\\') {
          state = S.FILE_SLASH;
        } else if (base && base.scheme === 'file') {
          url.host = base.host;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === '?') {
            url.query = '';
            state = S.QUERY;
          } else if (c === '#') {
            url.fragment = '';
            state = S.FRAGMENT;
          } else if (c !== undefined) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(cps, p)) shortenPath(url);
            else url.path = [];
            state = S.PATH;
            p--;
          }
        } else {
          state = S.PATH;
          p--;
        }
        break;

      case S.FILE_SLASH:
        if (c === '/' || c === '\\') {
          state = S.FILE_HOST;
        } else {
          if (base && base.scheme === 'file') {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(cps, p) && base.path.length > 0 && isNormalizedWindowsDriveLetter(base.path[0])) {
              url.path.push(base.path[0]);
            }
          }
          state = S.PATH;
          p--;
        }
        break;

      case S.FILE_HOST:
        if (c === undefined || c === '/' || c === '\\' || c === '?' || c === '#') {
          p--;
          if (!stateOverride && isWindowsDriveLetter(buffer)) {
            state = S.PATH; // the buffer is kept: it becomes the first path segment
          } else if (buffer === '') {
            url.host = '';
            if (stateOverride) return url;
            state = S.PATH_START;
          } else {
            let host = parseHost(buffer, false);
            if (host === null) return FAILURE;
            if (host === 'localhost') host = '';
            url.host = host;
            if (stateOverride) return url;
            buffer = '';
            state = S.PATH_START;
          }
        } else {
          buffer += c;
        }
        break;

      case S.PATH_START:
        if (special()) {
          state = S.PATH;
          if (c !== '/' && c !== '\\') p--;
        } else if (!stateOverride && c === '?') {
          url.query = '';
          state = S.QUERY;
        } else if (!stateOverride && c === '#') {
          url.fragment = '';
          state = S.FRAGMENT;
        } else if (c !== undefined) {
          state = S.PATH;
          if (c !== '/') p--;
        } else if (stateOverride && url.host === null) {
          url.path.push('');
        }
        break;

      case S.PATH:
        if (c === undefined || c === '/' || (special() && c === '\\') || (!stateOverride && (c === '?' || c === '#'))) {
          const slash = c === '/' || (special() && c === '\\');
          if (isDoubleDot(buffer)) {
            shortenPath(url);
            if (!slash) url.path.push('');
          } else if (isSingleDot(buffer) && !slash) {
            url.path.push('');
          } else if (!isSingleDot(buffer)) {
            if (url.scheme === 'file' && url.path.length === 0 && isWindowsDriveLetter(buffer)) buffer = buffer[0] + ':';
            url.path.push(buffer);
          }
          buffer = '';
          if (c === '?') {
            url.query = '';
            state = S.QUERY;
          }
          if (c === '#') {
            url.fragment = '';
            state = S.FRAGMENT;
          }
        } else {
          buffer += encodeCodePoint(c, isPathSet);
        }
        break;

      case S.OPAQUE_PATH:
        if (c === '?') {
          url.query = '';
          state = S.QUERY;
        } else if (c === '#') {
          url.fragment = '';
          state = S.FRAGMENT;
        } else if (c !== undefined) {
          url.path += encodeCodePoint(c, isC0Control);
        }
        break;

      case S.QUERY:
        if ((!stateOverride && c === '#') || c === undefined) {
          url.query += encodeString(buffer, special() ? isSpecialQuerySet : isQuerySet);
          buffer = '';
          if (c === '#') {
            url.fragment = '';
            state = S.FRAGMENT;
          }
        } else {
          buffer += c;
        }
        break;

      case S.FRAGMENT:
        if (c !== undefined) url.fragment += encodeCodePoint(c, isFragmentSet);
        break;
    }
  }
  return url;
}

function serializePath(url) {
  if (hasOpaquePath(url)) return url.path;
  let out = '';
  for (const segment of url.path) out += '/' + segment;
  return out;
}

function serializeURL(url, excludeFragment) {
  let out = url.scheme + ':';
  if (url.host !== null) {
    out += '//';
    if (includesCredentials(url)) {
      out += url.username;
      if (url.password !== '') out += ':' + url.password;
      out += '@';
    }
    out += url.host;
    if (url.port !== null) out += ':' + url.port;
  } else if (!hasOpaquePath(url) && url.path.length > 1 && url.path[0] === '') {
    out += '/.';
  }
  out += serializePath(url);
  if (url.query !== null) out += '?' + url.query;
  if (!excludeFragment && url.fragment !== null) out += '#' + url.fragment;
  return out;
}

function serializeOrigin(url) {
  if (url.scheme === 'blob') {
    const inner = basicURLParse(serializePath(url), null);
    return inner !== FAILURE && (inner.scheme === 'http' || inner.scheme === 'https') ? serializeOrigin(inner) : 'null';
  }
  if (url.scheme === 'file' || !isSpecialScheme(url.scheme)) return 'null';
  return url.scheme + '://' + url.host + (url.port === null ? '' : ':' + url.port);
}

// When the query or fragment of a URL with an opaque path is removed, trailing spaces of the path
// would no longer be followed by anything and are dropped (they could not survive a reparse).
function stripTrailingSpacesFromOpaquePath(url) {
  if (!hasOpaquePath(url) || url.fragment !== null || url.query !== null) return;
  url.path = url.path.replace(/ +$/, '');
}

// ---- application/x-www-form-urlencoded --------------------------------------------------------

function formDecode(s) {
  const plus = s.replace(/\+/g, ' ');
  return plus.indexOf('%') < 0 ? plus : utf8Decode(percentDecodeBytes(plus), false);
}

function parseFormUrlencoded(input) {
  const list = [];
  for (const sequence of input.split('&')) {
    if (sequence === '') continue;
    const eq = sequence.indexOf('=');
    const name = eq < 0 ? sequence : sequence.slice(0, eq);
    const value = eq < 0 ? '' : sequence.slice(eq + 1);
    list.push([formDecode(name), formDecode(value)]);
  }
  return list;
}

function formEncode(s) {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
        c === 0x2a || c === 0x2d || c === 0x2e || c === 0x5f) out += ch;
    else if (c === 0x20) out += '+';
    else for (const b of utf8Bytes(c)) out += hexByte(b);
  }
  return out;
}

function serializeFormUrlencoded(list) {
  return list.map((pair) => formEncode(pair[0]) + '=' + formEncode(pair[1])).join('&');
}

// ---- URLSearchParams --------------------------------------------------------------------------

// Internal state per URLSearchParams: { list, url } where url is the URL record it is bound to
// (URL.searchParams) or null. Kept in a WeakMap so URL can reach it.
const searchParamsState = new WeakMap();
const createSearchParamsIterator = createPairIteratorFactory('URLSearchParams Iterator');

function paramsOf(object, what) {
  const state = searchParamsState.get(object);
  if (state === undefined) throw new TypeError(`${what} called on an object that is not a URLSearchParams`);
  return state;
}

// Write the list back into the bound URL's query.
function updateBoundURL(state) {
  if (state.url === null) return;
  const serialized = serializeFormUrlencoded(state.list);
  state.url.query = serialized === '' ? null : serialized;
  if (serialized === '') stripTrailingSpacesFromOpaquePath(state.url);
}

class URLSearchParams {
  constructor(init = '') {
    const state = { list: [], url: null };
    searchParamsState.set(this, state);
    if (isObjectLike(init)) {
      const iteratorMethod = init[Symbol.iterator];
      if (iteratorMethod !== undefined && iteratorMethod !== null) {
        if (typeof iteratorMethod !== 'function') throw new TypeError('URLSearchParams: init[Symbol.iterator] is not a function');
        for (const pair of iteratorMethod.call(init)) {
          const items = isObjectLike(pair) && typeof pair[Symbol.iterator] === 'function' ? Array.from(pair) : null;
          if (items === null || items.length !== 2) {
            throw new TypeError('URLSearchParams: each item of an init sequence must be a [name, value] pair');
          }
          state.list.push([toUSVString(items[0]), toUSVString(items[1])]);
        }
      } else {
        for (const key of Object.keys(init)) state.list.push([toUSVString(key), toUSVString(init[key])]);
      }
    } else {
      let s = toUSVString(init);
      if (s[0] === '?') s = s.slice(1);
      state.list = parseFormUrlencoded(s);
    }
  }

  get size() {
    return paramsOf(this, 'URLSearchParams.size').list.length;
  }

  append(name, value) {
    requireArgs(arguments, 2, 'URLSearchParams.append');
    const state = paramsOf(this, 'URLSearchParams.append');
    state.list.push([toUSVString(name), toUSVString(value)]);
    updateBoundURL(state);
  }

  delete(name, value = undefined) {
    requireArgs(arguments, 1, 'URLSearchParams.delete');
    const state = paramsOf(this, 'URLSearchParams.delete');
    const n = toUSVString(name);
    const v = value === undefined ? undefined : toUSVString(value);
    state.list = state.list.filter((pair) => pair[0] !== n || (v !== undefined && pair[1] !== v));
    updateBoundURL(state);
  }

  get(name) {
    requireArgs(arguments, 1, 'URLSearchParams.get');
    const n = toUSVString(name);
    const pair = paramsOf(this, 'URLSearchParams.get').list.find((entry) => entry[0] === n);
    return pair === undefined ? null : pair[1];
  }

  getAll(name) {
    requireArgs(arguments, 1, 'URLSearchParams.getAll');
    const n = toUSVString(name);
    return paramsOf(this, 'URLSearchParams.getAll').list.filter((pair) => pair[0] === n).map((pair) => pair[1]);
  }

  has(name, value = undefined) {
    requireArgs(arguments, 1, 'URLSearchParams.has');
    const n = toUSVString(name);
    const v = value === undefined ? undefined : toUSVString(value);
    return paramsOf(this, 'URLSearchParams.has').list.some((pair) => pair[0] === n && (v === undefined || pair[1] === v));
  }

  set(name, value) {
    requireArgs(arguments, 2, 'URLSearchParams.set');
    const state = paramsOf(this, 'URLSearchParams.set');
    const n = toUSVString(name);
    const v = toUSVString(value);
    const index = state.list.findIndex((pair) => pair[0] === n);
    if (index < 0) {
      state.list.push([n, v]);
    } else {
      state.list[index] = [n, v];
      state.list = state.list.filter((pair, i) => i <= index || pair[0] !== n);
    }
    updateBoundURL(state);
  }

  // Stable sort by name in UTF-16 code unit order (the index breaks ties explicitly).
  sort() {
    const state = paramsOf(this, 'URLSearchParams.sort');
    state.list = state.list
      .map((pair, i) => [pair, i])
      .sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]))
      .map((item) => item[0]);
    updateBoundURL(state);
  }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw new TypeError('URLSearchParams.forEach: callback must be a function');
    const state = paramsOf(this, 'URLSearchParams.forEach');
    for (let i = 0; i < state.list.length; i++) callback.call(thisArg, state.list[i][1], state.list[i][0], this);
  }

  entries() {
    const state = paramsOf(this, 'URLSearchParams.entries');
    return createSearchParamsIterator(() => state.list, 'entries');
  }

  keys() {
    const state = paramsOf(this, 'URLSearchParams.keys');
    return createSearchParamsIterator(() => state.list, 'keys');
  }

  values() {
    const state = paramsOf(this, 'URLSearchParams.values');
    return createSearchParamsIterator(() => state.list, 'values');
  }

  toString() {
    return serializeFormUrlencoded(paramsOf(this, 'URLSearchParams.toString').list);
  }
}
Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
  value: URLSearchParams.prototype.entries, writable: true, enumerable: false, configurable: true,
});
setToStringTag(URLSearchParams.prototype, 'URLSearchParams');

// ---- URL --------------------------------------------------------------------------------------

function invalidURL(input, base) {
  const err = new TypeError(`Invalid URL: ${JSON.stringify(String(input))}${base === undefined ? '' : ` with base ${JSON.stringify(String(base))}`}`);
  err.input = String(input);
  return err;
}

function parseWithBase(url, base) {
  let baseRecord = null;
  if (base !== undefined) {
    baseRecord = basicURLParse(toUSVString(base), null);
    if (baseRecord === FAILURE) return FAILURE;
  }
  return basicURLParse(toUSVString(url), baseRecord);
}

class URL {
  #url;
  #searchParams;

  constructor(url, base = undefined) {
    requireArgs(arguments, 1, 'URL');
    const record = parseWithBase(url, base);
    if (record === FAILURE) throw invalidURL(url, base);
    this.#url = record;
    this.#searchParams = new URLSearchParams(record.query === null ? '' : record.query);
    searchParamsState.get(this.#searchParams).url = record;
  }

  static canParse(url, base = undefined) {
    requireArgs(arguments, 1, 'URL.canParse');
    return parseWithBase(url, base) !== FAILURE;
  }

  static parse(url, base = undefined) {
    requireArgs(arguments, 1, 'URL.parse');
    return parseWithBase(url, base) === FAILURE ? null : new URL(url, base);
  }

  #resetSearchParams() {
    searchParamsState.get(this.#searchParams).list = this.#url.query === null ? [] : parseFormUrlencoded(this.#url.query);
  }

  get href() {
    return serializeURL(this.#url, false);
  }

  set href(value) {
    const record = basicURLParse(toUSVString(value), null);
    if (record === FAILURE) throw invalidURL(value);
    copyURLRecord(record, this.#url); // in place: the bound URLSearchParams holds this record
    this.#resetSearchParams();
  }

  get origin() {
    return serializeOrigin(this.#url);
  }

  get protocol() {
    return this.#url.scheme + ':';
  }

  set protocol(value) {
    basicURLParse(toUSVString(value) + ':', null, this.#url, S.SCHEME_START);
  }

  get username() {
    return this.#url.username;
  }

  set username(value) {
    if (this.#cannotHaveCredentialsOrPort()) return;
    this.#url.username = encodeString(toUSVString(value), isUserinfoSet);
  }

  get password() {
    return this.#url.password;
  }

  set password(value) {
    if (this.#cannotHaveCredentialsOrPort()) return;
    this.#url.password = encodeString(toUSVString(value), isUserinfoSet);
  }

  get host() {
    const url = this.#url;
    if (url.host === null) return '';
    return url.port === null ? url.host : url.host + ':' + url.port;
  }

  set host(value) {
    if (hasOpaquePath(this.#url)) return;
    this.#setWithOverride(value, S.HOST);
  }

  get hostname() {
    return this.#url.host === null ? '' : this.#url.host;
  }

  set hostname(value) {
    if (hasOpaquePath(this.#url)) return;
    this.#setWithOverride(value, S.HOSTNAME);
  }

  get port() {
    return this.#url.port === null ? '' : String(this.#url.port);
  }

  set port(value) {
    if (this.#cannotHaveCredentialsOrPort()) return;
    const s = toUSVString(value);
    if (s === '') this.#url.port = null;
    else this.#setWithOverride(s, S.PORT);
  }

  get pathname() {
    return serializePath(this.#url);
  }

  set pathname(value) {
    if (hasOpaquePath(this.#url)) return;
    this.#url.path = [];
    basicURLParse(toUSVString(value), null, this.#url, S.PATH_START);
  }

  get search() {
    const q = this.#url.query;
    return q === null || q === '' ? '' : '?' + q;
  }

  set search(value) {
    const url = this.#url;
    let s = toUSVString(value);
    if (s === '') {
      url.query = null;
      searchParamsState.get(this.#searchParams).list = [];
      stripTrailingSpacesFromOpaquePath(url);
      return;
    }
    if (s[0] === '?') s = s.slice(1);
    url.query = '';
    basicURLParse(s, null, url, S.QUERY);
    searchParamsState.get(this.#searchParams).list = parseFormUrlencoded(s);
  }

  get searchParams() {
    return this.#searchParams;
  }

  get hash() {
    const f = this.#url.fragment;
    return f === null || f === '' ? '' : '#' + f;
  }

  set hash(value) {
    const url = this.#url;
    let s = toUSVString(value);
    if (s === '') {
      url.fragment = null;
      stripTrailingSpacesFromOpaquePath(url);
      return;
    }
    if (s[0] === '#') s = s.slice(1);
    url.fragment = '';
    basicURLParse(s, null, url, S.FRAGMENT);
  }

  toString() {
    return this.href;
  }

  toJSON() {
    return this.href;
  }

  #cannotHaveCredentialsOrPort() {
    return this.#url.host === null || this.#url.host === '' || this.#url.scheme === 'file';
  }

  // Like the standard, a parse that fails part-way keeps what it had already set (for example
  // `host = "a:99999"` sets the host and leaves the port).
  #setWithOverride(value, state) {
    basicURLParse(toUSVString(value), null, this.#url, state);
  }
}
setToStringTag(URL.prototype, 'URL');

defineGlobal('URL', URL);
defineGlobal('URLSearchParams', URLSearchParams);
