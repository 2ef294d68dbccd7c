// Entropy handed to the guest with each command: 32 bytes, never the same bytes twice, also
// across a refill of the pool it is sliced from.
import { expect, it } from 'vitest';
import { freshEntropy } from './host-inputs.js';

it('hands out distinct 32-byte slices, across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const e = freshEntropy();
    expect(e.length).toBe(32);
    seen.add(e.toString('hex'));
  }
  expect(seen.size).toBe(1000);
});

it('never lets a later slice overwrite an earlier one', () => {
  const first = freshEntropy();
  const copy = Buffer.from(first);
  for (let i = 0; i < 600; i++) freshEntropy();
  expect(first.equals(copy)).toBe(true);
});
