// es2023.js — the ECMAScript built-ins up to ES2023 that QuickJS 2021-03-27 lacks, written to the
// spec's algorithms: relative indexing (`at`), `findLast`/`findLastIndex`, the change-array-by-copy
// methods (`toReversed`, `toSorted`, `toSpliced`, `with`), their TypedArray forms, `Object.hasOwn`.
//
// Each is installed only where the engine has none, as a built-in would be: a non-enumerable,
// writable, configurable property whose function has the spec's `name` and `length` and is not a
// constructor (method shorthand gives all three). The Array methods are generic: `this` is
// converted with ToObject, so array-likes work through `.call`, and holes read as `undefined`.
//
// Not provided (syntax or engine internals a library cannot add): the RegExp `d` flag and
// `hasIndices`, `Error`'s `cause` option, `Array.prototype[Symbol.unscopables]` entries beyond
// the ones added here.

const MAX_SAFE_LENGTH = 2 ** 53 - 1;
const MAX_ARRAY_LENGTH = 2 ** 32 - 1;

function toObject(value, what) {
  if (value === null || value === undefined) throw new TypeError(`${what} called on ${value}`);
  return Object(value);
}

function toIntegerOrInfinity(value) {
  const n = +value; // unary plus: ToNumber, which throws for BigInt and Symbol (Number() would not)
  if (n !== n || n === 0) return 0;
  if (n === Infinity || n === -Infinity) return n;
  return Math.trunc(n);
}

function lengthOf(object) {
  const n = toIntegerOrInfinity(object.length);
  return n <= 0 ? 0 : Math.min(n, MAX_SAFE_LENGTH);
}

function requireCallable(fn, what) {
  if (typeof fn !== 'function') throw new TypeError(`${what}: ${String(fn === null ? 'null' : typeof fn)} is not a function`);
}

// ArrayCreate(len): a new plain Array (never a species constructor), RangeError past 2^32 - 1.
function arrayCreate(len, what) {
  if (len > MAX_ARRAY_LENGTH) throw new RangeError(`${what}: invalid array length ${len}`);
  return new Array(len);
}

// Installs methods that are missing from target, each as a built-in would be.
function installMissing(target, methods) {
  for (const name of Object.keys(methods)) {
    if (Object.prototype.hasOwnProperty.call(target, name)) continue;
    Object.defineProperty(target, name, { value: methods[name], writable: true, enumerable: false, configurable: true });
  }
}

// --- Array.prototype -------------------------------------------------------------------------

const arrayMethods = {
  at(index) {
    const o = toObject(this, 'Array.prototype.at');
    const len = lengthOf(o);
    const relative = toIntegerOrInfinity(index);
    const k = relative >= 0 ? relative : len + relative;
    return k < 0 || k >= len ? undefined : o[k];
  },
  findLast(predicate) {
    const o = toObject(this, 'Array.prototype.findLast');
    const len = lengthOf(o);
    requireCallable(predicate, 'Array.prototype.findLast');
    const thisArg = arguments[1];
    for (let k = len - 1; k >= 0; k--) {
      const value = o[k];
      if (predicate.call(thisArg, value, k, o)) return value;
    }
    return undefined;
  },
  findLastIndex(predicate) {
    const o = toObject(this, 'Array.prototype.findLastIndex');
    const len = lengthOf(o);
    requireCallable(predicate, 'Array.prototype.findLastIndex');
    const thisArg = arguments[1];
    for (let k = len - 1; k >= 0; k--) {
      if (predicate.call(thisArg, o[k], k, o)) return k;
    }
    return -1;
  },
  toReversed() {
    const o = toObject(this, 'Array.prototype.toReversed');
    const len = lengthOf(o);
    const a = arrayCreate(len, 'Array.prototype.toReversed');
    for (let k = 0; k < len; k++) a[k] = o[len - k - 1];
    return a;
  },
  toSorted(comparefn) {
    if (comparefn !== undefined) requireCallable(comparefn, 'Array.prototype.toSorted');
    const o = toObject(this, 'Array.prototype.toSorted');
    const len = lengthOf(o);
    const a = arrayCreate(len, 'Array.prototype.toSorted');
    for (let k = 0; k < len; k++) a[k] = o[k];
    // The copy has no holes, so the engine's sort (undefined last, stable) is the spec's SortIndexedProperties.
    return Array.prototype.sort.call(a, comparefn);
  },
  toSpliced(start, skipCount) {
    const o = toObject(this, 'Array.prototype.toSpliced');
    const len = lengthOf(o);
    const relativeStart = toIntegerOrInfinity(start);
    const actualStart = relativeStart < 0 ? Math.max(len + relativeStart, 0) : Math.min(relativeStart, len);
    const insertCount = Math.max(arguments.length - 2, 0);
    let actualSkipCount;
    if (arguments.length === 0) actualSkipCount = 0;
    else if (arguments.length === 1) actualSkipCount = len - actualStart;
    else actualSkipCount = Math.min(Math.max(toIntegerOrInfinity(skipCount), 0), len - actualStart);
    const newLen = len + insertCount - actualSkipCount;
    if (newLen > MAX_SAFE_LENGTH) throw new TypeError(`Array.prototype.toSpliced: the result would have ${newLen} elements, more than 2^53 - 1`);
    const a = arrayCreate(newLen, 'Array.prototype.toSpliced');
    let i = 0;
    let r = actualStart + actualSkipCount;
    while (i < actualStart) {
      a[i] = o[i];
      i++;
    }
    for (let j = 2; j < arguments.length; j++) a[i++] = arguments[j];
    while (i < newLen) a[i++] = o[r++];
    return a;
  },
  with(index, value) {
    const o = toObject(this, 'Array.prototype.with');
    const len = lengthOf(o);
    const relative = toIntegerOrInfinity(index);
    const actual = relative >= 0 ? relative : len + relative;
    if (actual >= len || actual < 0) throw new RangeError(`Array.prototype.with: index ${index} is out of range for length ${len}`);
    const a = arrayCreate(len, 'Array.prototype.with');
    for (let k = 0; k < len; k++) a[k] = k === actual ? value : o[k];
    return a;
  },
};
installMissing(Array.prototype, arrayMethods);

// `with` blocks: these names must not become bindings inside `with (array)` (ES2023 list).
const unscopables = Array.prototype[Symbol.unscopables];
if (unscopables && typeof unscopables === 'object') {
  for (const name of ['at', 'findLast', 'findLastIndex', 'toReversed', 'toSorted', 'toSpliced', 'flat', 'flatMap']) {
    if (!Object.prototype.hasOwnProperty.call(unscopables, name)) {
      Object.defineProperty(unscopables, name, { value: true, writable: true, enumerable: true, configurable: true });
    }
  }
}

// --- String.prototype.at ---------------------------------------------------------------------

installMissing(String.prototype, {
  at(index) {
    if (this === null || this === undefined) throw new TypeError(`String.prototype.at called on ${this}`);
    const s = `${this}`; // ToString: a template literal throws for a Symbol, String() would not
    const len = s.length;
    const relative = toIntegerOrInfinity(index);
    const k = relative >= 0 ? relative : len + relative;
    return k < 0 || k >= len ? undefined : s[k];
  },
});

// --- Object.hasOwn ---------------------------------------------------------------------------

installMissing(Object, {
  hasOwn(object, key) {
    const o = toObject(object, 'Object.hasOwn');
    return Object.prototype.hasOwnProperty.call(o, key);
  },
});

// --- %TypedArray%.prototype ------------------------------------------------------------------

const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype);
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const typedArrayLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, 'length').get;
// The intrinsic constructors, captured now: TypedArrayCreateSameType must not see user replacements.
const TYPED_ARRAY_CONSTRUCTORS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

// ValidateTypedArray: a TypedArray (TypeError otherwise, via the intrinsic getter's own check).
function validTypedArray(o, what) {
  const kind = typedArrayTag.call(o);
  if (kind === undefined) throw new TypeError(`${what}: this is not a TypedArray`);
  return { kind, len: typedArrayLength.call(o) };
}

function sameType(kind, len) {
  return new TYPED_ARRAY_CONSTRUCTORS[kind](len);
}

installMissing(TypedArrayPrototype, {
  at(index) {
    const { len } = validTypedArray(this, '%TypedArray%.prototype.at');
    const relative = toIntegerOrInfinity(index);
    const k = relative >= 0 ? relative : len + relative;
    return k < 0 || k >= len ? undefined : this[k];
  },
  findLast(predicate) {
    const { len } = validTypedArray(this, '%TypedArray%.prototype.findLast');
    requireCallable(predicate, '%TypedArray%.prototype.findLast');
    const thisArg = arguments[1];
    for (let k = len - 1; k >= 0; k--) {
      const value = this[k];
      if (predicate.call(thisArg, value, k, this)) return value;
    }
    return undefined;
  },
  findLastIndex(predicate) {
    const { len } = validTypedArray(this, '%TypedArray%.prototype.findLastIndex');
    requireCallable(predicate, '%TypedArray%.prototype.findLastIndex');
    const thisArg = arguments[1];
    for (let k = len - 1; k >= 0; k--) {
      if (predicate.call(thisArg, this[k], k, this)) return k;
    }
    return -1;
  },
  toReversed() {
    const { kind, len } = validTypedArray(this, '%TypedArray%.prototype.toReversed');
    const a = sameType(kind, len);
    for (let k = 0; k < len; k++) a[k] = this[len - k - 1];
    return a;
  },
  toSorted(comparefn) {
    if (comparefn !== undefined) requireCallable(comparefn, '%TypedArray%.prototype.toSorted');
    const { kind, len } = validTypedArray(this, '%TypedArray%.prototype.toSorted');
    const a = sameType(kind, len);
    a.set(this);
    return a.sort(comparefn);
  },
  with(index, value) {
    const { kind, len } = validTypedArray(this, '%TypedArray%.prototype.with');
    const relative = toIntegerOrInfinity(index);
    const actual = relative >= 0 ? relative : len + relative;
    // ToNumber / ToBigInt of the value comes before the range check; a one-element array of the
    // same type applies exactly that conversion (and its TypeError for a Number into BigInt64Array).
    const converted = sameType(kind, 1);
    converted[0] = value;
    if (actual >= len || actual < 0) throw new RangeError(`%TypedArray%.prototype.with: index ${index} is out of range for length ${len}`);
    const a = sameType(kind, len);
    a.set(this);
    a[actual] = converted[0];
    return a;
  },
});
