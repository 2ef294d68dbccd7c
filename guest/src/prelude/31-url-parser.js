// 31-url-parser.js — the WHATWG URL Standard's basic URL parser and serializer, with state
// overrides for the URL setters: special and opaque schemes, dot segments, credentials, ports,
// Windows drive letters in file URLs and the percent-encoding sets, as the standard says.

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
  '(?:\\?([!$%&()*+,\\-./0-9:;=?@A-Z\\[\\\\\\]^_`a-z{|}~]*))?$');

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
function parseAbsoluteURL(input) {
  if (typeof input === 'string') {
    const m = matchSerializedHttpURL(input);
    if (m !== null) return recordFromMatch(m);
  }
  return basicURLParse(toUSVString(input), null);
}

// The href that `new URL(input).href` would give, or FAILURE.
function absoluteHref(input) {
  if (typeof input === 'string' && matchSerializedHttpURL(input) !== null) return input;
  const record = basicURLParse(toUSVString(input), null);
  return record === FAILURE ? FAILURE : serializeURL(record, false);
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
