// The console's pool-size history: capacity reports in, a function's samples out.
import { expect, it } from 'vitest';
import { PoolHistory } from './pool-history.js';

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, tick: (ms = 1_000) => void (t += ms) };
}

it('keeps one sample per report for a key, oldest first', () => {
  const c = clock();
  const h = new PoolHistory({ now: c.now });
  h.record({ workerId: 'w1', pools: [{ key: 'a', idle: 1, busy: 0 }] });
  c.tick();
  h.record({ workerId: 'w1', pools: [{ key: 'a', idle: 2, busy: 1 }] });
  expect(h.samples(['a'])).toEqual([
    { at: 1_000, idle: 1, busy: 0 },
    { at: 2_000, idle: 2, busy: 1 },
  ]);
  expect(h.current(['a'])).toEqual({ idle: 2, busy: 1 });
  expect(h.samples(['other'])).toEqual([]);
  expect(h.current(['other'])).toEqual({ idle: 0, busy: 0 });
});

it('records a pool the worker stopped reporting as zero, once', () => {
  const c = clock();
  const h = new PoolHistory({ now: c.now });
  h.record({ workerId: 'w1', pools: [{ key: 'a', idle: 3, busy: 0 }] });
  c.tick();
  h.record({ workerId: 'w1', pools: [] });
  c.tick();
  h.record({ workerId: 'w1', pools: [] });
  expect(h.samples(['a'])).toEqual([
    { at: 1_000, idle: 3, busy: 0 },
    { at: 2_000, idle: 0, busy: 0 },
  ]);
});

it('sums a key over workers, each counted by its latest report', () => {
  const c = clock();
  const h = new PoolHistory({ now: c.now });
  h.record({ workerId: 'w1', pools: [{ key: 'a', idle: 2, busy: 0 }] });
  c.tick(300);
  h.record({ workerId: 'w2', pools: [{ key: 'a', idle: 5, busy: 1 }] });
  c.tick(700);
  h.record({ workerId: 'w1', pools: [{ key: 'a', idle: 1, busy: 1 }] });
  expect(h.samples(['a']).map((s) => s.idle + s.busy)).toEqual([2, 8, 8]);
  expect(h.current(['a'])).toEqual({ idle: 6, busy: 2 });
});

it("sums a function's keys (its versions) as step functions over time", () => {
  const c = clock();
  const h = new PoolHistory({ now: c.now });
  h.record({ workerId: 'w1', pools: [{ key: 'v1', idle: 2, busy: 0 }] });
  c.tick();
  h.record({
    workerId: 'w1',
    pools: [
      { key: 'v1', idle: 2, busy: 0 },
      { key: 'v2', idle: 0, busy: 1 },
      { key: 'not-mine', idle: 9, busy: 9 },
    ],
  });
  c.tick();
  h.record({ workerId: 'w1', pools: [{ key: 'v2', idle: 1, busy: 0 }] });
  expect(h.samples(['v1', 'v2'])).toEqual([
    { at: 1_000, idle: 2, busy: 0 },
    { at: 2_000, idle: 2, busy: 1 },
    { at: 3_000, idle: 1, busy: 0 },
  ]);
  expect(h.samples(['v1', 'v2'], 2_500)).toEqual([{ at: 3_000, idle: 1, busy: 0 }]);
});

it('is bounded: a ring of samples per key, and the least recently updated key forgotten first', () => {
  const c = clock();
  const h = new PoolHistory({ now: c.now, samplesPerKey: 3, maxKeys: 2 });
  for (let i = 1; i <= 5; i++) {
    h.record({ workerId: 'w1', pools: [{ key: 'a', idle: i, busy: 0 }] });
    c.tick();
  }
  expect(h.samples(['a']).map((s) => s.idle)).toEqual([3, 4, 5]);
  h.record({ workerId: 'w2', pools: [{ key: 'b', idle: 1, busy: 0 }] });
  c.tick();
  h.record({ workerId: 'w3', pools: [{ key: 'c', idle: 1, busy: 0 }] });
  expect(h.samples(['a'])).toEqual([]);
  expect(h.samples(['b', 'c'])).toHaveLength(2);
});
