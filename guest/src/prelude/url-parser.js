// url-parser.js — the WHATWG URL Standard's basic URL parser and serializer, with state
// overrides for the URL setters: special and opaque schemes, dot segments, credentials, ports,
// Windows drive letters in file URLs and the percent-encoding sets, as the standard says.

import { toUSVString } from './internal.js';
import {
  SPECIAL_PORTS,
  isSpecialScheme,
  isC0Control,
  isFragmentSet,
  isQuerySet,
  isSpecialQuerySet,
  isPathSet,
  isUserinfoSet,
  encodeCodePoint,
  encodeString,
  parseHost,
} from './url-host.js';

// ---- the basic URL parser ---------------------------------------------------------------------

// The parser's states, named as in the standard ("scheme start state"...). Plain constants rather
// than members of an object: a `switch` evaluates its cases in order, for every character.
export const SCHEME_START_STATE = 1,
  SCHEME_STATE = 2,
  NO_SCHEME_STATE = 3,
  SPECIAL_RELATIVE_OR_AUTHORITY_STATE = 4,
  PATH_OR_AUTHORITY_STATE = 5,
  RELATIVE_STATE = 6,
  RELATIVE_SLASH_STATE = 7,
  SPECIAL_AUTHORITY_SLASHES_STATE = 8,
  SPECIAL_AUTHORITY_IGNORE_SLASHES_STATE = 9,
  AUTHORITY_STATE = 10,
  HOST_STATE = 11,
  HOSTNAME_STATE = 12,
  PORT_STATE = 13,
  FILE_STATE = 14,
  FILE_SLASH_STATE = 15,
  FILE_HOST_STATE = 16,
  PATH_START_STATE = 17,
  PATH_STATE = 18,
  OPAQUE_PATH_STATE = 19,
  QUERY_STATE = 20,
  FRAGMENT_STATE = 21;
export const FAILURE = null;

function newURLRecord() {
  return { scheme: '', username: '', password: '', host: null, port: null, path: [], query: null, fragment: null };
}

export function copyURLRecord(from, to) {
  to.scheme = from.scheme;
  to.username = from.username;
  to.password = from.password;
  to.host = from.host;
  to.port = from.port;
  to.path = typeof from.path === 'string' ? from.path : from.path.slice();
  to.query = from.query;
  to.fragment = from.fragment;
}

// Characters are one-code-point strings (undefined at the end): compared directly, because a
// regular expression per character is what made this parser slow.
const isAsciiAlpha = (ch) => ch !== undefined && ch.length === 1 && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'));
const isAsciiDigit = (ch) => ch !== undefined && ch >= '0' && ch <= '9';
const isSchemeChar = (ch) => isAsciiAlpha(ch) || isAsciiDigit(ch) || ch === '+' || ch === '-' || ch === '.';
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
export const hasOpaquePath = (url) => typeof url.path === 'string';

// Returns the URL record, or FAILURE. With a state override, `url` is modified in place and the
// return value only matters as FAILURE / not failure.
export function basicURLParse(input, base, url, stateOverride) {
  if (!url) {
    url = newURLRecord();
    // Cheap checks first: a regex replace costs microseconds in QuickJS even when it finds nothing.
    if (input.length > 0 && (input.charCodeAt(0) <= 0x20 || input.charCodeAt(input.length - 1) <= 0x20)) {
      input = input.replace(/^[\0-\x20]+|[\0-\x20]+$/g, '');
    }
  }
  if (input.indexOf('\t') >= 0 || input.indexOf('\n') >= 0 || input.indexOf('\r') >= 0) input = input.replace(/[\t\n\r]/g, '');
  let state = stateOverride || SCHEME_START_STATE;
  let buffer = '';
  let atSignSeen = false;
  let insideBrackets = false;
  let passwordTokenSeen = false;
  // Code points, indexed. Without surrogates the string itself serves (indexing it gives the same
  // one-character strings), which spares an array of one string per character.
  const cps = /[\uD800-\uDFFF]/.test(input) ? Array.from(input) : input;
  // Asked for nearly every character; the scheme changes only a few times per parse.
  let specialFor = null;
  let specialValue = false;
  const special = () => {
    if (url.scheme !== specialFor) {
      specialFor = url.scheme;
      specialValue = isSpecialScheme(specialFor);
    }
    return specialValue;
  };

  for (let p = 0; p <= cps.length; p++) {
    const c = cps[p]; // undefined is EOF
    switch (state) {
      case SCHEME_START_STATE:
        if (c !== undefined && isAsciiAlpha(c)) {
          buffer += c.toLowerCase();
          state = SCHEME_STATE;
        } else if (!stateOverride) {
          state = NO_SCHEME_STATE;
          p--;
        } else return FAILURE;
        break;

      case SCHEME_STATE:
        if (isSchemeChar(c)) {
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
            state = FILE_STATE;
          } else if (special() && base && base.scheme === url.scheme) {
            state = SPECIAL_RELATIVE_OR_AUTHORITY_STATE;
          } else if (special()) {
            state = SPECIAL_AUTHORITY_SLASHES_STATE;
          } else if (cps[p + 1] === '/') {
            state = PATH_OR_AUTHORITY_STATE;
            p++;
          } else {
            url.path = '';
            state = OPAQUE_PATH_STATE;
          }
        } else if (!stateOverride) {
          buffer = '';
          state = NO_SCHEME_STATE;
          p = -1;
        } else return FAILURE;
        break;

      case NO_SCHEME_STATE:
        if (!base || (hasOpaquePath(base) && c !== '#')) return FAILURE;
        if (hasOpaquePath(base) && c === '#') {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = '';
          state = FRAGMENT_STATE;
        } else if (base.scheme !== 'file') {
          state = RELATIVE_STATE;
          p--;
        } else {
          state = FILE_STATE;
          p--;
        }
        break;

      case SPECIAL_RELATIVE_OR_AUTHORITY_STATE:
        if (c === '/' && cps[p + 1] === '/') {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES_STATE;
          p++;
        } else {
          state = RELATIVE_STATE;
          p--;
        }
        break;

      case PATH_OR_AUTHORITY_STATE:
        if (c === '/') state = AUTHORITY_STATE;
        else {
          state = PATH_STATE;
          p--;
        }
        break;

      case RELATIVE_STATE:
        url.scheme = base.scheme;
        if (c === '/' || (special() && c === '\\')) {
          state = RELATIVE_SLASH_STATE;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === '?') {
            url.query = '';
            state = QUERY_STATE;
          } else if (c === '#') {
            url.fragment = '';
            state = FRAGMENT_STATE;
          } else if (c !== undefined) {
            url.query = null;
            shortenPath(url);
            state = PATH_STATE;
            p--;
          }
        }
        break;

      case RELATIVE_SLASH_STATE:
        if (special() && (c === '/' || c === '\\')) {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES_STATE;
        } else if (c === '/') {
          state = AUTHORITY_STATE;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          state = PATH_STATE;
          p--;
        }
        break;

      case SPECIAL_AUTHORITY_SLASHES_STATE:
        if (c === '/' && cps[p + 1] === '/') {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES_STATE;
          p++;
        } else {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES_STATE;
          p--;
        }
        break;

      case SPECIAL_AUTHORITY_IGNORE_SLASHES_STATE:
        if (c !== '/' && c !== '\\') {
          state = AUTHORITY_STATE;
          p--;
        }
        break;

      case AUTHORITY_STATE:
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
          p -= (typeof cps === 'string' ? buffer.length : Array.from(buffer).length) + 1;
          buffer = '';
          state = HOST_STATE;
        } else {
          buffer += c;
        }
        break;

      case HOST_STATE:
      case HOSTNAME_STATE:
        if (stateOverride && url.scheme === 'file') {
          p--;
          state = FILE_HOST_STATE;
        } else if (c === ':' && !insideBrackets) {
          if (buffer === '') return FAILURE;
          if (stateOverride === HOSTNAME_STATE) return FAILURE;
          const host = parseHost(buffer, !special());
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = PORT_STATE;
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (special() && c === '\\')) {
          p--;
          if (special() && buffer === '') return FAILURE;
          if (stateOverride && buffer === '' && (includesCredentials(url) || url.port !== null)) return FAILURE;
          const host = parseHost(buffer, !special());
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = PATH_START_STATE;
          if (stateOverride) return url;
        } else {
          if (c === '[') insideBrackets = true;
          if (c === ']') insideBrackets = false;
          buffer += c;
        }
        break;

      case PORT_STATE:
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
          state = PATH_START_STATE;
          p--;
        } else return FAILURE;
        break;

      case FILE_STATE:
        url.scheme = 'file';
        url.host = '';
        if (c === '/' || c === '\\') {
          state = FILE_SLASH_STATE;
        } else if (base && base.scheme === 'file') {
          url.host = base.host;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === '?') {
            url.query = '';
            state = QUERY_STATE;
          } else if (c === '#') {
            url.fragment = '';
            state = FRAGMENT_STATE;
          } else if (c !== undefined) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(cps, p)) shortenPath(url);
            else url.path = [];
            state = PATH_STATE;
            p--;
          }
        } else {
          state = PATH_STATE;
          p--;
        }
        break;

      case FILE_SLASH_STATE:
        if (c === '/' || c === '\\') {
          state = FILE_HOST_STATE;
        } else {
          if (base && base.scheme === 'file') {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(cps, p) && base.path.length > 0 && isNormalizedWindowsDriveLetter(base.path[0])) {
              url.path.push(base.path[0]);
            }
          }
          state = PATH_STATE;
          p--;
        }
        break;

      case FILE_HOST_STATE:
        if (c === undefined || c === '/' || c === '\\' || c === '?' || c === '#') {
          p--;
          if (!stateOverride && isWindowsDriveLetter(buffer)) {
            state = PATH_STATE; // the buffer is kept: it becomes the first path segment
          } else if (buffer === '') {
            url.host = '';
            if (stateOverride) return url;
            state = PATH_START_STATE;
          } else {
            let host = parseHost(buffer, false);
            if (host === null) return FAILURE;
            if (host === 'localhost') host = '';
            url.host = host;
            if (stateOverride) return url;
            buffer = '';
            state = PATH_START_STATE;
          }
        } else {
          buffer += c;
        }
        break;

      case PATH_START_STATE:
        if (special()) {
          state = PATH_STATE;
          if (c !== '/' && c !== '\\') p--;
        } else if (!stateOverride && c === '?') {
          url.query = '';
          state = QUERY_STATE;
        } else if (!stateOverride && c === '#') {
          url.fragment = '';
          state = FRAGMENT_STATE;
        } else if (c !== undefined) {
          state = PATH_STATE;
          if (c !== '/') p--;
        } else if (stateOverride && url.host === null) {
          url.path.push('');
        }
        break;

      case PATH_STATE:
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
            state = QUERY_STATE;
          }
          if (c === '#') {
            url.fragment = '';
            state = FRAGMENT_STATE;
          }
        } else {
          buffer += encodeCodePoint(c, isPathSet);
        }
        break;

      case OPAQUE_PATH_STATE:
        if (c === '?') {
          url.query = '';
          state = QUERY_STATE;
        } else if (c === '#') {
          url.fragment = '';
          state = FRAGMENT_STATE;
        } else if (c !== undefined) {
          url.path += encodeCodePoint(c, isC0Control);
        }
        break;

      case QUERY_STATE:
        if ((!stateOverride && c === '#') || c === undefined) {
          url.query += encodeString(buffer, special() ? isSpecialQuerySet : isQuerySet);
          buffer = '';
          if (c === '#') {
            url.fragment = '';
            state = FRAGMENT_STATE;
          }
        } else {
          buffer += c;
        }
        break;

      case FRAGMENT_STATE:
        if (c !== undefined) url.fragment += encodeCodePoint(c, isFragmentSet);
        break;
    }
  }
  return url;
}

// ---- the fast path for URLs already in serialized form -----------------------------------------
//
// Nearly every URL a function parses is request.url or something built from it: http(s), a
// lower-case ASCII host, no credentials, no fragment, nothing to percent-encode, no dot segments,
// no default port. For such a string the basic URL parser's result is known in advance (the string
// is its own serialization), so one regular expression replaces the character-by-character run.
// Anything it does not match goes through basicURLParse as before.
const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const SERIALIZED_HTTP_URL = new RegExp(
  '^(https?)://' +
    // A domain whose last label starts with a letter (so it is not an IPv4 number), or dotted IPv4.
    `((?:[a-z0-9-]+\\.)*[a-z][a-z0-9-]*|(?:${DEC_OCTET}\\.){3}${DEC_OCTET})` +
    '(?::(0|[1-9][0-9]{0,4}))?' +
    // Path segments of characters outside the path percent-encode set, none of them "." or ".."
    // (or their %2e spellings).
    "((?:/(?!(?:\\.|%2[eE]){1,2}(?:[/?]|$))[A-Za-z0-9\\-._~!$&'()*+,;=:@%]*)+)" +
    // A query of characters outside the special-query percent-encode set.
    '(?:\\?([!$%&()*+,\\-./0-9:;=?@A-Z\\[\\\\\\]^_`a-z{|}~]*))?$',
);

// The match for a string in serialized form, or null.
function matchSerializedHttpURL(input) {
  const m = SERIALIZED_HTTP_URL.exec(input);
  if (m === null) return null;
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (port > 65535 || port === SPECIAL_PORTS[m[1]]) return null; // a failure, or a port that is dropped
  }
  return m;
}

// basicURLParse(input, null) for a string in serialized form, without running it.
function recordFromMatch(m) {
  const url = newURLRecord();
  url.scheme = m[1];
  url.host = m[2];
  url.port = m[3] === undefined ? null : Number(m[3]);
  url.path = m[4].slice(1).split('/');
  url.query = m[5] === undefined ? null : m[5];
  return url;
}

// basicURLParse(toUSVString(input), null), taking the fast path when it can.
export function parseAbsoluteURL(input) {
  if (typeof input === 'string') {
    const m = matchSerializedHttpURL(input);
    if (m !== null) return recordFromMatch(m);
  }
  return basicURLParse(toUSVString(input), null);
}

// The href that `new URL(input).href` would give, or FAILURE.
export function absoluteHref(input) {
  if (typeof input === 'string' && matchSerializedHttpURL(input) !== null) return input;
  const record = basicURLParse(toUSVString(input), null);
  return record === FAILURE ? FAILURE : serializeURL(record, false);
}

export function serializePath(url) {
  if (hasOpaquePath(url)) return url.path;
  const path = url.path;
  let out = '';
  for (let i = 0; i < path.length; i++) out += '/' + path[i];
  return out;
}

export function serializeURL(url, excludeFragment) {
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

export function serializeOrigin(url) {
  if (url.scheme === 'blob') {
    const inner = basicURLParse(serializePath(url), null);
    return inner !== FAILURE && (inner.scheme === 'http' || inner.scheme === 'https') ? serializeOrigin(inner) : 'null';
  }
  if (url.scheme === 'file' || !isSpecialScheme(url.scheme)) return 'null';
  return url.scheme + '://' + url.host + (url.port === null ? '' : ':' + url.port);
}

// When the query or fragment of a URL with an opaque path is removed, trailing spaces of the path
// would no longer be followed by anything and are dropped (they could not survive a reparse).
export function stripTrailingSpacesFromOpaquePath(url) {
  if (!hasOpaquePath(url) || url.fragment !== null || url.query !== null) return;
  url.path = url.path.replace(/ +$/, '');
}
