// url.js — URL and URLSearchParams on top of the parser (url-parser.js). A URL and its
// searchParams share one URL record, so each sees the other's changes.

import { defineGlobal, setToStringTag, requireArgs, isObjectLike, toUSVString, utf8Decode, createPairIteratorFactory } from './internal.js';
import { isUserinfoSet, utf8Bytes, hexByte, encodeString, percentDecodeBytes } from './url-host.js';
import {
  SCHEME_START_STATE,
  HOST_STATE,
  HOSTNAME_STATE,
  PORT_STATE,
  PATH_START_STATE,
  QUERY_STATE,
  FRAGMENT_STATE,
  FAILURE,
  copyURLRecord,
  hasOpaquePath,
  basicURLParse,
  parseAbsoluteURL,
  serializePath,
  serializeURL,
  serializeOrigin,
  stripTrailingSpacesFromOpaquePath,
} from './url-parser.js';

// ---- application/x-www-form-urlencoded --------------------------------------------------------

function formDecode(s) {
  const plus = s.indexOf('+') < 0 ? s : s.replace(/\+/g, ' ');
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
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2a || c === 0x2d || c === 0x2e || c === 0x5f) out += ch;
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

export class URLSearchParams {
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
    const list = paramsOf(this, 'URLSearchParams.get').list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === n) return list[i][1];
    return null;
  }

  getAll(name) {
    requireArgs(arguments, 1, 'URLSearchParams.getAll');
    const n = toUSVString(name);
    return paramsOf(this, 'URLSearchParams.getAll')
      .list.filter((pair) => pair[0] === n)
      .map((pair) => pair[1]);
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
  value: URLSearchParams.prototype.entries,
  writable: true,
  enumerable: false,
  configurable: true,
});
setToStringTag(URLSearchParams.prototype, 'URLSearchParams');

// ---- URL --------------------------------------------------------------------------------------

function invalidURL(input, base) {
  const err = new TypeError(`Invalid URL: ${JSON.stringify(String(input))}${base === undefined ? '' : ` with base ${JSON.stringify(String(base))}`}`);
  err.input = String(input);
  return err;
}

function parseWithBase(url, base) {
  if (base === undefined) return parseAbsoluteURL(url);
  const baseRecord = parseAbsoluteURL(base);
  if (baseRecord === FAILURE) return FAILURE;
  return basicURLParse(toUSVString(url), baseRecord);
}

// Passed as the first constructor argument (with the record as the second) by URL.parse, which has
// parsed already. Private to the prelude, so user code cannot forge it.
const FROM_RECORD = {};

export class URL {
  #url;
  #searchParams = null; // made on first use: most code reads a URL without touching its query

  constructor(url, base = undefined) {
    requireArgs(arguments, 1, 'URL');
    const record = url === FROM_RECORD ? arguments[1] : parseWithBase(url, base);
    if (record === FAILURE) throw invalidURL(url, base);
    this.#url = record;
  }

  static canParse(url, base = undefined) {
    requireArgs(arguments, 1, 'URL.canParse');
    return parseWithBase(url, base) !== FAILURE;
  }

  static parse(url, base = undefined) {
    requireArgs(arguments, 1, 'URL.parse');
    const record = parseWithBase(url, base);
    return record === FAILURE ? null : new URL(FROM_RECORD, record);
  }

  // After the query changed underneath: the bound URLSearchParams (if made yet) re-reads it.
  #resetSearchParams() {
    if (this.#searchParams === null) return;
    searchParamsState.get(this.#searchParams).list = this.#url.query === null ? [] : parseFormUrlencoded(this.#url.query);
  }

  get href() {
    return serializeURL(this.#url, false);
  }

  set href(value) {
    const record = parseAbsoluteURL(value);
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
    basicURLParse(toUSVString(value) + ':', null, this.#url, SCHEME_START_STATE);
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
    this.#setWithOverride(value, HOST_STATE);
  }

  get hostname() {
    return this.#url.host === null ? '' : this.#url.host;
  }

  set hostname(value) {
    if (hasOpaquePath(this.#url)) return;
    this.#setWithOverride(value, HOSTNAME_STATE);
  }

  get port() {
    return this.#url.port === null ? '' : String(this.#url.port);
  }

  set port(value) {
    if (this.#cannotHaveCredentialsOrPort()) return;
    const s = toUSVString(value);
    if (s === '') this.#url.port = null;
    else this.#setWithOverride(s, PORT_STATE);
  }

  get pathname() {
    return serializePath(this.#url);
  }

  set pathname(value) {
    if (hasOpaquePath(this.#url)) return;
    this.#url.path = [];
    basicURLParse(toUSVString(value), null, this.#url, PATH_START_STATE);
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
      this.#resetSearchParams();
      stripTrailingSpacesFromOpaquePath(url);
      return;
    }
    if (s[0] === '?') s = s.slice(1);
    url.query = '';
    basicURLParse(s, null, url, QUERY_STATE);
    if (this.#searchParams !== null) searchParamsState.get(this.#searchParams).list = parseFormUrlencoded(s);
  }

  get searchParams() {
    if (this.#searchParams === null) {
      // Made without running the constructor (its state lives in the WeakMap, so nothing else
      // tells the two apart): the query of a URL record is already a USVString, parsed directly.
      const params = Object.create(URLSearchParams.prototype);
      const list = this.#url.query === null ? [] : parseFormUrlencoded(this.#url.query);
      searchParamsState.set(params, { list, url: this.#url });
      this.#searchParams = params;
    }
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
    basicURLParse(s, null, url, FRAGMENT_STATE);
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
