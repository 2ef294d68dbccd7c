// subtle.js — crypto.subtle: digest (SHA-1/256/384/512) and HMAC (importKey 'raw' or 'jwk',
// exportKey, sign, verify, generateKey). The hashing is C in the runtime (sha.c, through
// __fn_native.digest/hmac): in QuickJS bytecode it ran at about 1 MiB/s, in C ~100x faster
// (guest/README.md). Every other algorithm or format rejects with a NotSupportedError
// that names it.

import {
  defineGlobal,
  defineMethods,
  setToStringTag,
  requireArgs,
  describeValue,
  bytesView,
  base64Encode,
  base64Decode,
  DOMException,
  native,
} from './internal.js';
import { cryptoObject } from './crypto.js';

/** name (upper case) → block and output sizes in bytes (FIPS 180-4). */
const HASHES = {
  'SHA-1': { blockSize: 64, outputSize: 20 },
  'SHA-256': { blockSize: 64, outputSize: 32 },
  'SHA-384': { blockSize: 128, outputSize: 48 },
  'SHA-512': { blockSize: 128, outputSize: 64 },
};

const keyData = new WeakMap(); // CryptoKey → its secret bytes (never a property user code can see)

class CryptoKey {
  constructor() {
    throw new TypeError('CryptoKey: illegal constructor (use crypto.subtle.importKey or generateKey)');
  }
}
setToStringTag(CryptoKey.prototype, 'CryptoKey');

function makeKey(bytes, algorithm, extractable, usages) {
  const key = Object.create(CryptoKey.prototype);
  Object.defineProperties(key, {
    type: { value: 'secret', enumerable: true },
    extractable: { value: Boolean(extractable), enumerable: true },
    algorithm: { value: Object.freeze(algorithm), enumerable: true },
    usages: { value: Object.freeze(usages.slice()), enumerable: true },
  });
  keyData.set(key, bytes);
  return key;
}

function notSupported(what) {
  return new DOMException(
    `crypto.subtle: ${what} is not supported in fn (supported: digest with SHA-1/SHA-256/SHA-384/SHA-512, HMAC keys with sign/verify)`,
    'NotSupportedError',
  );
}

function algorithmName(algorithm) {
  const name = typeof algorithm === 'string' ? algorithm : algorithm !== null && typeof algorithm === 'object' ? algorithm.name : undefined;
  if (typeof name !== 'string') throw new TypeError(`crypto.subtle: the algorithm must be a string or an object with a name, got ${describeValue(algorithm)}`);
  return name.toUpperCase();
}

function hashAlgorithm(algorithm) {
  const name = algorithmName(algorithm);
  if (!Object.prototype.hasOwnProperty.call(HASHES, name)) throw notSupported(`the hash ${JSON.stringify(name)}`);
  return name;
}

function bufferSource(value, what) {
  const bytes = bytesView(value);
  if (bytes === null) throw new TypeError(`crypto.subtle.${what}: expected an ArrayBuffer or a view of one, got ${describeValue(value)}`);
  return bytes;
}

function copyBuffer(bytes) {
  return bytes.slice().buffer;
}

function hmac(hashName, key, data) {
  return native.hmac(hashName, key, data);
}

const HMAC_USAGES = ['sign', 'verify'];

function checkUsages(usages, what) {
  const list = Array.from(usages || []);
  for (const u of list) {
    if (HMAC_USAGES.indexOf(u) < 0) throw new DOMException(`crypto.subtle.${what}: an HMAC key cannot be used to ${JSON.stringify(u)}`, 'SyntaxError');
  }
  return list;
}

function requireKey(key, usage, what) {
  if (!keyData.has(key)) throw new TypeError(`crypto.subtle.${what}: expected a CryptoKey, got ${describeValue(key)}`);
  if (key.usages.indexOf(usage) < 0) throw new DOMException(`crypto.subtle.${what}: the key's usages do not include "${usage}"`, 'InvalidAccessError');
  return keyData.get(key);
}

function hmacParams(algorithm, what) {
  if (algorithmName(algorithm) !== 'HMAC') throw notSupported(`the algorithm ${JSON.stringify(algorithmName(algorithm))} in ${what}`);
  if (algorithm === null || typeof algorithm !== 'object' || algorithm.hash === undefined) {
    throw new TypeError(`crypto.subtle.${what}: an HMAC algorithm needs a hash, such as { name: 'HMAC', hash: 'SHA-256' }`);
  }
  return hashAlgorithm(algorithm.hash);
}

function base64urlDecode(text) {
  const bytes = base64Decode(String(text).replace(/-/g, '+').replace(/_/g, '/'));
  if (bytes === null) throw new DOMException('crypto.subtle.importKey: the JWK\'s "k" is not base64url', 'DataError');
  return bytes;
}

function base64urlEncode(bytes) {
  return base64Encode(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Each method runs synchronously inside a promise, so every error becomes a rejection.
const run = (fn) => new Promise((resolve) => resolve(fn()));

const subtle = {};
defineMethods(subtle, {
  digest(algorithm, data) {
    const args = arguments;
    return run(() => {
      requireArgs(args, 2, 'crypto.subtle.digest');
      const name = hashAlgorithm(algorithm);
      return native.digest(name, bufferSource(data, 'digest')).buffer;
    });
  },
  importKey(format, keyDataIn, algorithm, extractable, usages) {
    const args = arguments;
    return run(() => {
      requireArgs(args, 5, 'crypto.subtle.importKey');
      const hashName = hmacParams(algorithm, 'importKey');
      let bytes;
      if (format === 'raw') bytes = bufferSource(keyDataIn, 'importKey').slice();
      else if (format === 'jwk') {
        if (keyDataIn === null || typeof keyDataIn !== 'object' || keyDataIn.kty !== 'oct' || typeof keyDataIn.k !== 'string') {
          throw new DOMException('crypto.subtle.importKey: an HMAC JWK must have kty "oct" and a base64url "k"', 'DataError');
        }
        bytes = base64urlDecode(keyDataIn.k);
      } else throw notSupported(`the key format ${JSON.stringify(format)}`);
      const list = checkUsages(usages, 'importKey');
      if (list.length === 0) throw new DOMException('crypto.subtle.importKey: usages must not be empty', 'SyntaxError');
      if (bytes.length === 0) throw new DOMException('crypto.subtle.importKey: an HMAC key must not be empty', 'DataError');
      return makeKey(bytes, { name: 'HMAC', hash: { name: hashName }, length: bytes.length * 8 }, extractable, list);
    });
  },
  generateKey(algorithm, extractable, usages) {
    const args = arguments;
    return run(() => {
      requireArgs(args, 3, 'crypto.subtle.generateKey');
      const hashName = hmacParams(algorithm, 'generateKey');
      const bits = algorithm.length === undefined ? HASHES[hashName].blockSize * 8 : Number(algorithm.length);
      if (!(bits > 0 && bits % 8 === 0)) throw notSupported(`an HMAC key length of ${algorithm.length} bits (use a multiple of 8)`);
      const list = checkUsages(usages, 'generateKey');
      if (list.length === 0) throw new DOMException('crypto.subtle.generateKey: usages must not be empty', 'SyntaxError');
      const bytes = cryptoObject.getRandomValues(new Uint8Array(bits / 8));
      return makeKey(bytes, { name: 'HMAC', hash: { name: hashName }, length: bits }, extractable, list);
    });
  },
  exportKey(format, key) {
    const args = arguments;
    return run(() => {
      requireArgs(args, 2, 'crypto.subtle.exportKey');
      if (!keyData.has(key)) throw new TypeError(`crypto.subtle.exportKey: expected a CryptoKey, got ${describeValue(key)}`);
      if (!key.extractable) throw new DOMException('crypto.subtle.exportKey: the key is not extractable', 'InvalidAccessError');
      const bytes = keyData.get(key);
      if (format === 'raw') return copyBuffer(bytes);
      if (format === 'jwk') {
        return { kty: 'oct', k: base64urlEncode(bytes), alg: `HS${key.algorithm.hash.name.slice(4)}`, ext: true, key_ops: key.usages.slice() };
      }
      throw notSupported(`the key format ${JSON.stringify(format)}`);
    });
  },
  sign(algorithm, key, data) {
    const args = arguments;
    return run(() => {
      requireArgs(args, 3, 'crypto.subtle.sign');
      if (algorithmName(algorithm) !== 'HMAC') throw notSupported(`the algorithm ${JSON.stringify(algorithmName(algorithm))} in sign`);
      const secret = requireKey(key, 'sign', 'sign');
      return copyBuffer(hmac(key.algorithm.hash.name, secret, bufferSource(data, 'sign')));
    });
  },
  verify(algorithm, key, signature, data) {
    const args = arguments;
    return run(() => {
      requireArgs(args, 4, 'crypto.subtle.verify');
      if (algorithmName(algorithm) !== 'HMAC') throw notSupported(`the algorithm ${JSON.stringify(algorithmName(algorithm))} in verify`);
      const secret = requireKey(key, 'verify', 'verify');
      const expected = hmac(key.algorithm.hash.name, secret, bufferSource(data, 'verify'));
      const given = bufferSource(signature, 'verify');
      if (given.length !== expected.length) return false;
      let diff = 0; // constant time over the signature's length
      for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ given[i];
      return diff === 0;
    });
  },
});
for (const name of ['encrypt', 'decrypt', 'deriveBits', 'deriveKey', 'wrapKey', 'unwrapKey']) {
  defineMethods(subtle, {
    [name]: {
      [name]() {
        return Promise.reject(notSupported(`crypto.subtle.${name}`));
      },
    }[name],
  });
}
setToStringTag(subtle, 'SubtleCrypto');
Object.defineProperty(cryptoObject, 'subtle', { value: subtle, writable: false, enumerable: true, configurable: true });
defineGlobal('CryptoKey', CryptoKey);
