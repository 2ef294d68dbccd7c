/**
 * What the host hands in with every command so that clones of one snapshot never share a clock or
 * randomness: the current wall-clock time and fresh entropy.
 */
import { randomFillSync } from 'node:crypto';
import { ENTROPY_BYTES } from './abi.js';

export function nowUnixNs(): bigint {
  // timeOrigin + now() gives sub-millisecond wall-clock time, unlike Date.now().
  const ms = performance.timeOrigin + performance.now();
  return BigInt(Math.floor(ms * 1e3)) * 1000n;
}

/**
 * Entropy is drawn from the CSPRNG 256 commands' worth at a time and handed out in slices, each
 * exactly once (as crypto.randomUUID buffers its own): one CSPRNG call per command cost more than
 * the rest of building the command.
 */
const POOL_COMMANDS = 256;
let pool = Buffer.alloc(0);
let next = 0;

export function freshEntropy(): Buffer {
  if (next + ENTROPY_BYTES > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(ENTROPY_BYTES * POOL_COMMANDS));
    next = 0;
  }
  const slice = pool.subarray(next, next + ENTROPY_BYTES);
  next += ENTROPY_BYTES;
  return slice;
}
