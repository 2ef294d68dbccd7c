// The latency histogram's bins (console/web/histogram.ts), drawn by the console as SVG.
import { expect, it } from 'vitest';
import { histogram, median } from '../web/histogram.js';

it('puts cold and warm samples in log-spaced bins that cover every sample', () => {
  const samples = [
    { ms: 1, cold: false },
    { ms: 1.2, cold: false },
    { ms: 2, cold: false },
    { ms: 40, cold: true },
    { ms: 100, cold: true },
  ];
  const h = histogram(samples, 10);
  expect(h.edges).toHaveLength(11);
  expect(h.edges[0]).toBeCloseTo(1);
  expect(h.edges[10]).toBeCloseTo(100);
  for (let i = 1; i < h.edges.length; i++) expect(h.edges[i]! / h.edges[i - 1]!).toBeCloseTo(h.edges[1]! / h.edges[0]!);
  expect(h.warm.reduce((a, b) => a + b)).toBe(3);
  expect(h.cold.reduce((a, b) => a + b)).toBe(2);
  expect(h.warm[0]).toBe(2); // 1 and 1.2 ms share the first bin (1–1.58 ms)
  expect(h.cold[9]).toBe(1); // the largest lands in the last bin, not past it
  expect(h.cold[8]).toBe(1);
});

it('gives one value, or values all alike, a range around them', () => {
  const h = histogram([{ ms: 5, cold: true }], 4);
  expect(h.edges[0]).toBeLessThan(5);
  expect(h.edges[4]).toBeGreaterThan(5);
  expect(h.cold.reduce((a, b) => a + b)).toBe(1);
  expect(histogram([]).edges).toEqual([]);
});

it('keeps zero-millisecond samples on a log axis', () => {
  const h = histogram([
    { ms: 0, cold: false },
    { ms: 10, cold: true },
  ]);
  expect(h.warm.reduce((a, b) => a + b) + h.cold.reduce((a, b) => a + b)).toBe(2);
});

it('takes the median', () => {
  expect(median([])).toBeNull();
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});
