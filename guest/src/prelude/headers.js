// headers.js — Headers (WHATWG Fetch), without guards: every Headers object is mutable.

import { defineGlobal, setToStringTag, requireArgs, isObjectLike, describeValue, utf8Encode, iteratesAsArray, createPairIteratorFactory } from './internal.js';

const TOKEN_CHARS = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
export const HTTP_TOKEN = new RegExp(`^${TOKEN_CHARS}$`);
// Tokens separated by newlines (which no token contains): checks many names in one run.
const HTTP_TOKEN_LINES = new RegExp(`^${TOKEN_CHARS}(?:\\n${TOKEN_CHARS})*$`);

function normalizeHeaderName(name, what) {
  const s = String(name);
  if (!HTTP_TOKEN.test(s)) throw new TypeError(`${what}: "${s}" is not a valid HTTP header name`);
  return s.toLowerCase();
}

const BAD_HEADER_VALUE_CHAR = /[\0\r\n\u0100-\uffff]/;

function isHttpWhitespace(c) {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// Values are ByteStrings without surrounding HTTP whitespace and without NUL, CR or LF.
function normalizeHeaderValue(value, name, what) {
  let s = typeof value === 'string' ? value : String(value);
  // Most values have nothing to trim: two character reads instead of a regex replace.
  if (s.length > 0 && (isHttpWhitespace(s.charCodeAt(0)) || isHttpWhitespace(s.charCodeAt(s.length - 1)))) {
    s = s.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  }
  if (BAD_HEADER_VALUE_CHAR.test(s)) {
    if (/[\0\r\n]/.test(s)) throw new TypeError(`${what}: the value of header "${name}" contains NUL, CR or LF`);
    throw new TypeError(`${what}: the value of header "${name}" contains characters outside Latin1; percent-encode or base64 it`);
  }
  return s;
}

const createHeadersIterator = createPairIteratorFactory('Headers Iterator');

// The prelude's own access to a Headers' list, set up by the class below (QuickJS 2021 has no
// static blocks, so a static field initializer hands the functions out). Names are lower-case and
// values normalized already: these skip the validation the public methods do.
//   fromList(pairs)               new Headers holding `pairs` (taken over, not copied)
//   has(h, name)                  h.has(name)
//   appendValidated(h, name, value)  h.append(name, value)
//   sorted(h)                     the pairs iteration gives (kept: callers must not change it)
export let headersInternals = null;

export class Headers {
  #list = []; // [lowercased name, value] in insertion order
  #sorted = null; // cached "sort and combine" result, dropped on every change

  static #internals = (headersInternals =
    {
      fromList(pairs) {
        const h = new Headers();
        h.#list = pairs;
        return h;
      },
      has: (h, name) => h.#indexOf(name) >= 0,
      appendValidated(h, name, value) {
        h.#list.push([name, value]);
        h.#sorted = null;
      },
      sorted: (h) => h.#sortAndCombine(),
    });

  constructor(init = undefined) {
    if (init === undefined) return;
    if (!isObjectLike(init)) {
      throw new TypeError(`Headers: init must be a Headers object, an array of [name, value] pairs or a record of names to values, got ${describeValue(init)}`);
    }
    const iteratorMethod = init[Symbol.iterator];
    if (iteratorMethod !== undefined && iteratorMethod !== null) {
      if (typeof iteratorMethod !== 'function') throw new TypeError('Headers: init[Symbol.iterator] is not a function');
      if (iteratesAsSortedList(init, iteratorMethod)) {
        // Iterating another Headers gives its sorted list, normalized already: copied directly.
        this.#list = init.#sortAndCombine().slice();
        return;
      }
      for (const pair of iteratorMethod.call(init)) {
        const items = iteratesAsArray(pair) ? pair : isObjectLike(pair) && typeof pair[Symbol.iterator] === 'function' ? Array.from(pair) : null;
        if (items === null || items.length !== 2) {
          throw new TypeError('Headers: each header in an init sequence must be a [name, value] pair');
        }
        this.append(items[0], items[1]);
      }
    } else {
      for (const key of Object.keys(init)) this.append(key, init[key]);
    }
  }

  append(name, value) {
    requireArgs(arguments, 2, 'Headers.append');
    const n = normalizeHeaderName(name, 'Headers.append');
    this.#list.push([n, normalizeHeaderValue(value, n, 'Headers.append')]);
    this.#sorted = null;
  }

  delete(name) {
    requireArgs(arguments, 1, 'Headers.delete');
    const n = normalizeHeaderName(name, 'Headers.delete');
    this.#list = this.#list.filter((entry) => entry[0] !== n);
    this.#sorted = null;
  }

  get(name) {
    requireArgs(arguments, 1, 'Headers.get');
    const n = normalizeHeaderName(name, 'Headers.get');
    const list = this.#list;
    let value = null;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === n) value = value === null ? list[i][1] : value + ', ' + list[i][1];
    }
    return value;
  }

  getSetCookie() {
    const values = [];
    for (const entry of this.#list) if (entry[0] === 'set-cookie') values.push(entry[1]);
    return values;
  }

  has(name) {
    requireArgs(arguments, 1, 'Headers.has');
    return this.#indexOf(normalizeHeaderName(name, 'Headers.has')) >= 0;
  }

  set(name, value) {
    requireArgs(arguments, 2, 'Headers.set');
    const n = normalizeHeaderName(name, 'Headers.set');
    const v = normalizeHeaderValue(value, n, 'Headers.set');
    const index = this.#indexOf(n);
    if (index < 0) {
      this.#list.push([n, v]);
    } else {
      this.#list[index] = [n, v];
      this.#list = this.#list.filter((entry, i) => i <= index || entry[0] !== n);
    }
    this.#sorted = null;
  }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw new TypeError('Headers.forEach: callback must be a function');
    // Re-read the list each step so changes made by the callback are seen, like the iterator.
    for (let i = 0; i < this.#sortAndCombine().length; i++) {
      const pair = this.#sortAndCombine()[i];
      callback.call(thisArg, pair[1], pair[0], this);
    }
  }

  entries() {
    return createHeadersIterator(() => this.#sortAndCombine(), 'entries');
  }

  keys() {
    return createHeadersIterator(() => this.#sortAndCombine(), 'keys');
  }

  values() {
    return createHeadersIterator(() => this.#sortAndCombine(), 'values');
  }

  #indexOf(lowerName) {
    const list = this.#list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === lowerName) return i;
    return -1;
  }

  // Fetch's "sort and combine": names sorted, values of one name joined with ", ", except
  // set-cookie, whose values are listed one by one (they cannot be joined safely).
  #sortAndCombine() {
    if (this.#sorted !== null) return this.#sorted;
    if (this.#list.length <= 1) {
      // The common response with one header: nothing to sort or combine. A copy, because the
      // list changes in place and this result is kept (the pairs themselves are never mutated).
      this.#sorted = this.#list.slice();
      return this.#sorted;
    }
    const byName = new Map();
    for (const entry of this.#list) {
      const values = byName.get(entry[0]);
      if (values === undefined) byName.set(entry[0], [entry[1]]);
      else values.push(entry[1]);
    }
    const names = Array.from(byName.keys()).sort();
    const out = [];
    for (const name of names) {
      const values = byName.get(name);
      if (name === 'set-cookie') for (const v of values) out.push([name, v]);
      else out.push([name, values.join(', ')]);
    }
    this.#sorted = out;
    return out;
  }
}
const headersEntries = Headers.prototype.entries;
Object.defineProperty(Headers.prototype, Symbol.iterator, {
  value: headersEntries,
  writable: true,
  enumerable: false,
  configurable: true,
});
// Whether iterating `h` with `iteratorMethod` gives exactly its sorted list, as at boot (user code
// can replace the method or the iterator's next()): then the prelude may read that list instead.
const headersIteratorPrototype = Object.getPrototypeOf(new Headers().entries());
const headersIteratorNext = headersIteratorPrototype.next;
export function iteratesAsSortedList(h, iteratorMethod) {
  return h instanceof Headers && iteratorMethod === headersEntries && headersIteratorPrototype.next === headersIteratorNext;
}
setToStringTag(Headers.prototype, 'Headers');
defineGlobal('Headers', Headers);

// The request's Headers, from the [name, value] pairs the host sent (anything else in the array is
// ignored). The gateway has validated them, but the guest still lower-cases names, trims values and
// drops anything invalid, as append() would. Usually everything is already fine, and then one check
// over all names and one over all values replace the several per header that append() makes.
export function headersFromPairs(pairs) {
  const n = pairs.length;
  if (n === 0) return new Headers();
  let names = '';
  let values = '';
  for (let i = 0; i < n; i++) {
    const pair = pairs[i];
    if (!Array.isArray(pair) || pair.length !== 2) return headersFromPairsOneByOne(pairs);
    const name = pair[0];
    const value = pair[1];
    if (typeof name !== 'string' || typeof value !== 'string') return headersFromPairsOneByOne(pairs);
    // Whitespace to trim starts or ends a value; a value with nothing up to U+0020 there has none.
    if (value.length > 0 && (value.charCodeAt(0) <= 0x20 || value.charCodeAt(value.length - 1) <= 0x20)) {
      return headersFromPairsOneByOne(pairs);
    }
    names = i === 0 ? name : names + '\n' + name;
    values += value;
  }
  if (!HTTP_TOKEN_LINES.test(names) || !isPlainHeaderText(values)) return headersFromPairsOneByOne(pairs);
  // A name with a newline in it would split into more lines than there are pairs.
  const lower = names.toLowerCase().split('\n');
  if (lower.length !== n) return headersFromPairsOneByOne(pairs);
  const list = [];
  for (let i = 0; i < n; i++) {
    // Pairs are never changed in place, so the host's own pair serves when its name is lower-case.
    list.push(pairs[i][0] === lower[i] ? pairs[i] : [lower[i], pairs[i][1]]);
  }
  return headersInternals.fromList(list);
}

// Whether header values joined together are all ASCII without NUL, CR or LF: then every one of
// them is valid. QuickJS runs a regular expression at some 20 ns a character while these builtins
// run in C, and request headers easily add up to a kilobyte. UTF-8 takes one byte a character
// exactly when all of them are ASCII; values with Latin1 characters take the careful way.
function isPlainHeaderText(s) {
  return s.indexOf('\r') < 0 && s.indexOf('\n') < 0 && s.indexOf('\0') < 0 && utf8Encode(s).length === s.length;
}

function headersFromPairsOneByOne(pairs) {
  const headers = new Headers();
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) continue; // not a pair: ignored
    try {
      headers.append(pair[0], pair[1]);
    } catch (e) {
      // The gateway validates headers; anything that still fails here is dropped, not fatal.
    }
  }
  return headers;
}
