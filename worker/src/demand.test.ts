import { expect, it } from 'vitest';
import { DemandTracker } from './demand.js';

it('remembers the peak concurrency for the window, then forgets it', () => {
  const d = new DemandTracker(0, 10_000, 1000);
  d.begin(100);
  d.begin(200);
  d.begin(300);
  d.end(400);
  d.end(500);
  expect(d.inFlight).toBe(1);
  expect(d.peak(500)).toBe(3);
  d.end(600);
  expect(d.peak(9_999)).toBe(3);
  expect(d.peak(11_500)).toBe(0);
});

it('counts what is in flight now even when it started before the window', () => {
  const d = new DemandTracker(0, 10_000, 1000);
  d.begin(0);
  d.begin(0);
  expect(d.peak(60_000)).toBe(2);
  expect(d.idleFor(60_000)).toBe(0);
});

it('measures idleness from the last invocation to end', () => {
  const d = new DemandTracker(0);
  d.begin(1000);
  d.end(4000);
  expect(d.idleFor(10_000)).toBe(6000);
});
