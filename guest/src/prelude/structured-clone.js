// structured-clone.js — structuredClone for plain data.
//
// Supported: primitives (not symbols), plain objects, arrays, Date, RegExp, Map, Set, ArrayBuffer,
// typed arrays, DataView, boxed primitives and Error objects, with shared and circular references
// preserved. Functions, symbols, class instances and host objects throw a DataCloneError naming
// the value, and `transfer` is not supported.

import { defineGlobal, requireArgs, describeValue, typedArrayKind, DOMException } from './internal.js';
import { formatFunction } from './console.js';

function structuredClone(value, options = undefined) {
  requireArgs(arguments, 1, 'structuredClone');
  if (options && options.transfer !== undefined && options.transfer !== null && options.transfer.length > 0) {
    throw new DOMException('structuredClone: the transfer option is not supported in fn', 'DataCloneError');
  }
  return cloneValue(value, new Map());
}

const CLONE_ERROR_CONSTRUCTORS = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

function cloneValue(value, memory) {
  if (typeof value === 'symbol') throw new DOMException(`structuredClone: ${value.toString()} could not be cloned`, 'DataCloneError');
  if (typeof value === 'function') {
    throw new DOMException(
      `structuredClone: ${formatFunction(value)} could not be cloned; only plain data (objects, arrays, Map, Set, Date, bytes...) can`,
      'DataCloneError',
    );
  }
  if (value === null || typeof value !== 'object') return value;
  if (memory.has(value)) return memory.get(value);

  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const kind = typedArrayKind(value);
  let out;
  if (Array.isArray(value)) {
    out = new Array(value.length);
    memory.set(value, out);
    for (const key of Object.keys(value)) out[key] = cloneValue(value[key], memory);
    return out;
  }
  if (kind !== undefined) {
    const buffer = cloneValue(value.buffer, memory);
    out = new globalThis[kind](buffer, value.byteOffset, value.length);
  } else if (tag === 'DataView') {
    out = new DataView(cloneValue(value.buffer, memory), value.byteOffset, value.byteLength);
  } else if (tag === 'ArrayBuffer') {
    out = value.slice(0);
  } else if (tag === 'Date') {
    out = new Date(value.getTime());
  } else if (tag === 'RegExp') {
    out = new RegExp(value.source, value.flags);
  } else if (tag === 'Boolean' || tag === 'Number' || tag === 'String' || tag === 'BigInt') {
    out = Object(value.valueOf());
  } else if (tag === 'Map') {
    out = new Map();
    memory.set(value, out);
    for (const entry of value) out.set(cloneValue(entry[0], memory), cloneValue(entry[1], memory));
    return out;
  } else if (tag === 'Set') {
    out = new Set();
    memory.set(value, out);
    for (const item of value) out.add(cloneValue(item, memory));
    return out;
  } else if (tag === 'Error') {
    const Ctor = Object.prototype.hasOwnProperty.call(CLONE_ERROR_CONSTRUCTORS, value.name) ? CLONE_ERROR_CONSTRUCTORS[value.name] : Error;
    out = new Ctor(value.message);
    if (typeof value.stack === 'string') Object.defineProperty(out, 'stack', { value: value.stack, writable: true, configurable: true });
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new DOMException(
        `structuredClone: ${describeValue(value)} could not be cloned; only plain data (objects, arrays, Map, Set, Date, bytes...) can`,
        'DataCloneError',
      );
    }
    out = {};
    memory.set(value, out);
    for (const key of Object.keys(value)) out[key] = cloneValue(value[key], memory);
    return out;
  }
  memory.set(value, out);
  return out;
}

defineGlobal('structuredClone', structuredClone);
