// How the console prints durations and ages (console/web/format.ts).
import { expect, it } from 'vitest';
import { ago, formatMs } from '../web/format.js';

it('prints durations at a precision that fits their size', () => {
  expect(formatMs(0.25)).toBe('0.25 ms');
  expect(formatMs(7.61)).toBe('7.6 ms');
  expect(formatMs(49.4)).toBe('49 ms');
  expect(formatMs(2_345)).toBe('2.35 s');
  expect(formatMs(Number.NaN)).toBe('–');
});

it('prints ages relative to now', () => {
  const now = 10_000_000;
  expect(ago(now - 12_000, now)).toBe('12 s ago');
  expect(ago(now - 180_000, now)).toBe('3 min ago');
  expect(ago(now - 7_200_000, now)).toBe('2 h ago');
  expect(ago(now + 5_000, now)).toBe('0 s ago'); // a clock a little ahead is "now", not negative
});
