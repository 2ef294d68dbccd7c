/**
 * What the host hands in with every command so that clones of one snapshot never share a clock or
 * randomness: the current wall-clock time and fresh entropy.
 */
import { randomBytes } from 'node:crypto';
import { ENTROPY_BYTES } from './abi.js';

export function nowUnixNs(): bigint {
  // timeOrigin + now() gives sub-millisecond wall-clock time, unlike Date.now().
  const ms = performance.timeOrigin + performance.now();
  return BigInt(Math.floor(ms * 1e3)) * 1000n;
}

export function freshEntropy(): Buffer {
  return randomBytes(ENTROPY_BYTES);
}
