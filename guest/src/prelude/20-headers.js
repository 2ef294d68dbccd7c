// 20-headers.js — Headers (WHATWG Fetch), without guards: every Headers object is mutable.

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function normalizeHeaderName(name, what) {
  const s = String(name);
  if (!HTTP_TOKEN.test(s)) throw new TypeError(`${what}: "${s}" is not a valid HTTP header name`);
  return s.toLowerCase();
}

// Values are ByteStrings without surrounding HTTP whitespace and without NUL, CR or LF.
function normalizeHeaderValue(value, name, what) {
  const s = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (/[\0\r\n]/.test(s)) throw new TypeError(`${what}: the value of header "${name}" contains NUL, CR or LF`);
  if (/[^\x00-\xff]/.test(s)) {
    throw new TypeError(`${what}: the value of header "${name}" contains characters outside Latin1; percent-encode or base64 it`);
  }
  return s;
}

const createHeadersIterator = createPairIteratorFactory('Headers Iterator');

class Headers {
  #list = []; // [lowercased name, value] in insertion order
  #sorted = null; // cached "sort and combine" result, dropped on every change

  constructor(init = undefined) {
    if (init === undefined) return;
    if (!isObjectLike(init)) {
      throw new TypeError(`Headers: init must be a Headers object, an array of [name, value] pairs or a record of names to values, got ${describeValue(init)}`);
    }
    const iteratorMethod = init[Symbol.iterator];
    if (iteratorMethod !== undefined && iteratorMethod !== null) {
      if (typeof iteratorMethod !== 'function') throw new TypeError('Headers: init[Symbol.iterator] is not a function');
      for (const pair of iteratorMethod.call(init)) {
        const items = isObjectLike(pair) && typeof pair[Symbol.iterator] === 'function' ? Array.from(pair) : null;
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
    const values = [];
    for (const entry of this.#list) if (entry[0] === n) values.push(entry[1]);
    return values.length === 0 ? null : values.join(', ');
  }

  getSetCookie() {
    const values = [];
    for (const entry of this.#list) if (entry[0] === 'set-cookie') values.push(entry[1]);
    return values;
  }

  has(name) {
    requireArgs(arguments, 1, 'Headers.has');
    const n = normalizeHeaderName(name, 'Headers.has');
    return this.#list.some((entry) => entry[0] === n);
  }

  set(name, value) {
    requireArgs(arguments, 2, 'Headers.set');
    const n = normalizeHeaderName(name, 'Headers.set');
    const v = normalizeHeaderValue(value, n, 'Headers.set');
    const index = this.#list.findIndex((entry) => entry[0] === n);
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

  // Fetch's "sort and combine": names sorted, values of one name joined with ", ", except
  // set-cookie, whose values are listed one by one (they cannot be joined safely).
  #sortAndCombine() {
    if (this.#sorted !== null) return this.#sorted;
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
Object.defineProperty(Headers.prototype, Symbol.iterator, {
  value: Headers.prototype.entries, writable: true, enumerable: false, configurable: true,
});
setToStringTag(Headers.prototype, 'Headers');
defineGlobal('Headers', Headers);
