// crypto.js — crypto.getRandomValues and crypto.randomUUID (crypto.subtle: subtle.js).
//
// Every byte comes straight from native.randomFill; nothing is pooled in JS, because a pool filled
// before the snapshot would be shared by every VM restored from it.

import { native, defineGlobal, defineMethods, setToStringTag, requireArgs, describeValue, typedArrayKind, DOMException } from './internal.js';

const INTEGER_ARRAY_KINDS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
];
const MAX_RANDOM_BYTES = 65536;

function getRandomValues(array) {
  requireArgs(arguments, 1, 'crypto.getRandomValues');
  if (INTEGER_ARRAY_KINDS.indexOf(typedArrayKind(array)) < 0) {
    throw new DOMException(`crypto.getRandomValues: expected an integer TypedArray (such as Uint8Array), got ${describeValue(array)}`, 'TypeMismatchError');
  }
  if (array.byteLength > MAX_RANDOM_BYTES) {
    throw new DOMException(`crypto.getRandomValues: ${array.byteLength} bytes requested, at most ${MAX_RANDOM_BYTES} per call`, 'QuotaExceededError');
  }
  native.randomFill(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return array;
}

const HEX = [];
for (let i = 0; i < 256; i++) HEX.push((i < 16 ? '0' : '') + i.toString(16));

function randomUUID() {
  const b = new Uint8Array(16);
  native.randomFill(b);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10xx (RFC 4122)
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

export const cryptoObject = {};
defineMethods(cryptoObject, { getRandomValues, randomUUID });
setToStringTag(cryptoObject, 'Crypto');
defineGlobal('crypto', cryptoObject);
