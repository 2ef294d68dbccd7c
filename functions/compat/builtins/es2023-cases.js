// es2023-cases.js — the ES2023 built-ins that QuickJS 2021 lacks, exercised on the spec's edge
// cases. Each case returns a value (or throws); `encode` turns the outcome into JSON that keeps
// what JSON would lose (undefined, holes, NaN, -0, BigInt, TypedArray kinds, error names). The test
// runs the same cases in Node (which implements ES2023 natively: the reference) and in the guest,
// and compares the encodings.

export function encode(value) {
  if (value === undefined) return { undefined: true };
  if (typeof value === 'number') {
    if (value !== value) return { number: 'NaN' };
    if (value === 0 && 1 / value < 0) return { number: '-0' };
    if (!Number.isFinite(value)) return { number: String(value) };
    return value;
  }
  if (typeof value === 'bigint') return { bigint: String(value) };
  if (typeof value === 'symbol') return { symbol: String(value) };
  if (typeof value === 'function') return { function: value.name };
  if (Array.isArray(value)) {
    const items = [];
    for (let i = 0; i < value.length; i++) items.push(i in value ? encode(value[i]) : { hole: true });
    return { array: items, isArray: Object.getPrototypeOf(value) === Array.prototype };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return { typedArray: Object.prototype.toString.call(value), items: Array.from(value, encode) };
  }
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) out[key] = encode(value[key]);
    return { object: out };
  }
  return value;
}

export function outcome(fn) {
  try {
    return { value: encode(fn()) };
  } catch (e) {
    return { throws: e && e.name };
  }
}

const arrayLike = { length: 3, 0: 'a', 1: 'b', 2: 'c' };
const descriptor = (target, key) => {
  const d = Object.getOwnPropertyDescriptor(target, key);
  if (!d) return 'missing';
  return [typeof d.value, d.value.name, d.value.length, d.enumerable, d.writable, d.configurable];
};
const TA = Object.getPrototypeOf(Int8Array.prototype);
class MyArray extends Array {}

export const cases = [
  // --- property shape: name, length, attributes ---
  ...['at', 'findLast', 'findLastIndex', 'toReversed', 'toSorted', 'toSpliced', 'with', 'flat', 'flatMap'].map((m) => [
    `Array.prototype.${m} descriptor`,
    () => descriptor(Array.prototype, m),
  ]),
  ...['at', 'findLast', 'findLastIndex', 'toReversed', 'toSorted', 'with'].map((m) => [`%TypedArray%.prototype.${m} descriptor`, () => descriptor(TA, m)]),
  ['String.prototype.at descriptor', () => descriptor(String.prototype, 'at')],
  ['Object.hasOwn descriptor', () => descriptor(Object, 'hasOwn')],
  [
    'methods are not enumerable in for-in',
    () => {
      const keys = [];
      for (const k in []) keys.push(k);
      return keys;
    },
  ],
  ['methods are not constructors', () => new Array.prototype.at(0)],
  [
    'unscopables',
    () =>
      ['at', 'findLast', 'findLastIndex', 'toReversed', 'toSorted', 'toSpliced', 'with', 'flat', 'flatMap'].map((m) => Array.prototype[Symbol.unscopables][m]),
  ],

  // --- at ---
  ['at(-1)', () => [1, 2, 3].at(-1)],
  ['at(0)', () => [1, 2, 3].at(0)],
  ['at(len)', () => [1, 2, 3].at(3)],
  ['at(-len-1)', () => [1, 2, 3].at(-4)],
  ['at(1.7) truncates', () => [1, 2, 3].at(1.7)],
  ['at(-1.7) truncates', () => [1, 2, 3].at(-1.7)],
  ["at('-1') coerces", () => [1, 2, 3].at('-1')],
  ['at(NaN) is at(0)', () => [1, 2, 3].at(NaN)],
  ['at() is at(0)', () => [1, 2, 3].at()],
  ['at(-Infinity)', () => [1, 2, 3].at(-Infinity)],
  ['at(Infinity)', () => [1, 2, 3].at(Infinity)],
  ['at on a hole', () => [, 1].at(0)],
  ['at valueOf on index', () => [1, 2, 3].at({ valueOf: () => 2 })],
  ['at on an array-like', () => Array.prototype.at.call(arrayLike, -1)],
  ['at on a string via call', () => Array.prototype.at.call('xyz', -1)],
  ['at on a number via call', () => Array.prototype.at.call(5, 0)],
  ['at with negative length', () => Array.prototype.at.call({ length: -5, 0: 1 }, 0)],
  ["at with length '2'", () => Array.prototype.at.call({ length: '2', 1: 'x' }, -1)],
  ['at on null', () => Array.prototype.at.call(null, 0)],
  ['at on undefined', () => Array.prototype.at.call(undefined, 0)],
  ['at BigInt index throws', () => [1].at(0n)],

  // --- findLast / findLastIndex ---
  ['findLast odd', () => [1, 2, 3, 4].findLast((x) => x % 2 === 1)],
  ['findLastIndex odd', () => [1, 2, 3, 4].findLastIndex((x) => x % 2 === 1)],
  ['findLast none', () => [1, 2].findLast((x) => x > 5)],
  ['findLastIndex none', () => [1, 2].findLastIndex((x) => x > 5)],
  [
    'findLast visit order and arguments',
    () => {
      const seen = [];
      const a = [5, 6, 7];
      a.findLast((v, i, arr) => {
        seen.push([v, i, arr === a]);
        return false;
      });
      return seen;
    },
  ],
  [
    'findLast thisArg',
    () =>
      [1, 2].findLast(
        function (x) {
          return x === this.want;
        },
        { want: 1 },
      ),
  ],
  ['findLast sees holes as undefined', () => [1, , 3].findLastIndex((x) => x === undefined)],
  ['findLast on an array-like', () => Array.prototype.findLast.call(arrayLike, (x) => x < 'c')],
  ['findLastIndex on an array-like', () => Array.prototype.findLastIndex.call(arrayLike, (x) => x === 'a')],
  ['findLast non-callable', () => [1].findLast(1)],
  ['findLast non-callable on empty', () => [].findLast({})],
  ['findLast on null', () => Array.prototype.findLast.call(null, () => true)],
  ['findLast on a string', () => Array.prototype.findLast.call('abc', (c) => c !== 'c')],

  // --- toReversed ---
  ['toReversed', () => [1, 2, 3].toReversed()],
  [
    'toReversed leaves the original',
    () => {
      const a = [1, 2, 3];
      a.toReversed();
      return a;
    },
  ],
  ['toReversed fills holes', () => [1, , 3].toReversed()],
  ['toReversed on an array-like', () => Array.prototype.toReversed.call(arrayLike)],
  ['toReversed ignores species', () => MyArray.from([1, 2]).toReversed() instanceof MyArray],
  ['toReversed on null', () => Array.prototype.toReversed.call(null)],
  ['toReversed huge length', () => Array.prototype.toReversed.call({ length: 2 ** 32 })],

  // --- toSorted ---
  ['toSorted default', () => [3, 20, 100, 1].toSorted()],
  ['toSorted comparator', () => [3, 20, 100, 1].toSorted((a, b) => a - b)],
  ['toSorted undefined and holes last', () => [3, undefined, , 1].toSorted()],
  [
    'toSorted leaves the original',
    () => {
      const a = [2, 1];
      a.toSorted();
      return a;
    },
  ],
  [
    'toSorted stable',
    () =>
      [
        { k: 1, i: 0 },
        { k: 0, i: 1 },
        { k: 1, i: 2 },
        { k: 0, i: 3 },
      ]
        .toSorted((a, b) => a.k - b.k)
        .map((o) => o.i),
  ],
  ['toSorted bad comparator', () => [1, 2].toSorted('nope')],
  ['toSorted bad comparator on empty', () => [].toSorted(null)],
  ['toSorted on an array-like', () => Array.prototype.toSorted.call({ length: 3, 0: 'c', 1: 'a', 2: 'b' })],
  ['toSorted ignores species', () => MyArray.from([2, 1]).toSorted() instanceof MyArray],

  // --- toSpliced ---
  ['toSpliced insert and remove', () => [1, 2, 3, 4].toSpliced(1, 2, 'a', 'b', 'c')],
  ['toSpliced() copies', () => [1, 2, 3].toSpliced()],
  ['toSpliced(start) removes the rest', () => [1, 2, 3].toSpliced(1)],
  ['toSpliced(-1, 1)', () => [1, 2, 3].toSpliced(-1, 1)],
  ['toSpliced(-10, 1)', () => [1, 2, 3].toSpliced(-10, 1)],
  ['toSpliced(10, 1, x)', () => [1, 2, 3].toSpliced(10, 1, 'x')],
  ['toSpliced(1, -1, x)', () => [1, 2, 3].toSpliced(1, -1, 'x')],
  ['toSpliced(1, undefined)', () => [1, 2, 3].toSpliced(1, undefined)],
  ['toSpliced fills holes', () => [1, , 3, , 5].toSpliced(1, 1)],
  ['toSpliced on an array-like', () => Array.prototype.toSpliced.call(arrayLike, 0, 1, 'z')],
  ['toSpliced length', () => Array.prototype.toSpliced.length],
  [
    'toSpliced leaves the original',
    () => {
      const a = [1, 2, 3];
      a.toSpliced(0, 1);
      return a;
    },
  ],

  // --- with ---
  ['with(-1)', () => [1, 2, 3].with(-1, 9)],
  ['with(0)', () => [1, 2, 3].with(0, 'x')],
  ['with(len) throws', () => [1, 2, 3].with(3, 0)],
  ['with(-len-1) throws', () => [1, 2, 3].with(-4, 0)],
  ['with fills holes', () => [, 2, ,].with(1, 'x')],
  ['with on an array-like', () => Array.prototype.with.call(arrayLike, 1, 'B')],
  [
    'with leaves the original',
    () => {
      const a = [1, 2];
      a.with(0, 5);
      return a;
    },
  ],
  ['with on null', () => Array.prototype.with.call(null, 0, 1)],

  // --- String.prototype.at ---
  ["'abc'.at(-1)", () => 'abc'.at(-1)],
  ["'abc'.at(3)", () => 'abc'.at(3)],
  ["'abc'.at(-4)", () => 'abc'.at(-4)],
  ['at returns a code unit', () => '😀'.at(0).charCodeAt(0)],
  ['String.prototype.at on a number', () => String.prototype.at.call(123, -1)],
  ['String.prototype.at on an object', () => String.prototype.at.call({ toString: () => 'hey' }, 1)],
  ['String.prototype.at on null', () => String.prototype.at.call(null, 0)],
  ['String.prototype.at on a symbol', () => String.prototype.at.call(Symbol('s'), 0)],

  // --- Object.hasOwn ---
  ['hasOwn own', () => Object.hasOwn({ a: 1 }, 'a')],
  ['hasOwn inherited', () => Object.hasOwn({ a: 1 }, 'toString')],
  ['hasOwn on null', () => Object.hasOwn(null, 'a')],
  ['hasOwn on undefined', () => Object.hasOwn(undefined, 'a')],
  ['hasOwn on a string', () => [Object.hasOwn('abc', 'length'), Object.hasOwn('abc', 1), Object.hasOwn('abc', 3)]],
  ['hasOwn index number key', () => Object.hasOwn([1], 0)],
  [
    'hasOwn symbol key',
    () => {
      const s = Symbol('k');
      return Object.hasOwn({ [s]: 1 }, s);
    },
  ],
  ['hasOwn null-prototype object', () => Object.hasOwn(Object.create(null, { x: { value: 1 } }), 'x')],
  ['hasOwn key coercion', () => Object.hasOwn({ 1: true }, { toString: () => '1' })],

  // --- TypedArrays ---
  ['Int8Array at(-1)', () => new Int8Array([1, 2, 3]).at(-1)],
  ['Int8Array at(5)', () => new Int8Array([1, 2, 3]).at(5)],
  ['TypedArray at on a plain array', () => TA.at.call([1, 2], 0)],
  ['Uint16Array findLast', () => new Uint16Array([1, 2, 3, 4]).findLast((x) => x < 3)],
  ['Uint16Array findLastIndex', () => new Uint16Array([1, 2, 3, 4]).findLastIndex((x) => x > 9)],
  ['Float32Array toReversed', () => new Float32Array([1.5, 2, 3]).toReversed()],
  ['Float64Array toSorted with NaN and -0', () => new Float64Array([3, NaN, -0, 0, -1]).toSorted()],
  ['Int32Array toSorted comparator', () => new Int32Array([1, 3, 2]).toSorted((a, b) => b - a)],
  ['TypedArray toSorted bad comparator', () => new Int8Array(1).toSorted(1)],
  ['Uint8Array with(-1)', () => new Uint8Array([1, 2, 3]).with(-1, 256 + 7)],
  ['Uint8ClampedArray with clamps', () => new Uint8ClampedArray([1]).with(0, 300)],
  ['Uint8Array with(3) throws', () => new Uint8Array(3).with(3, 1)],
  ['BigInt64Array with', () => new BigInt64Array([1n, 2n]).with(0, 5n)],
  ['BigInt64Array with a number throws', () => new BigInt64Array([1n]).with(0, 1)],
  [
    'TypedArray toReversed leaves the original',
    () => {
      const a = new Int8Array([1, 2]);
      a.toReversed();
      return a;
    },
  ],
  ['TypedArray toReversed on a subarray', () => new Uint8Array([1, 2, 3, 4]).subarray(1, 3).toReversed()],
];

/** Runs every case where this module is evaluated (Node or the guest). */
export function runCases() {
  const results = {};
  for (const [name, fn] of cases) results[name] = outcome(fn);
  return results;
}
