import { expect, it } from 'vitest';
import { LatencyRecorder } from './latency.js';

it('gives nearest-rank p50 and p99 of the recent samples', () => {
  const r = new LatencyRecorder();
  expect(r.percentiles()).toEqual({ count: 0, p50: 0, p99: 0 });
  for (let i = 1; i <= 100; i++) r.record(i);
  expect(r.percentiles()).toEqual({ count: 100, p50: 50, p99: 99 });
});

it('lets old samples age out of a full ring', () => {
  const r = new LatencyRecorder(10);
  for (let i = 0; i < 10; i++) r.record(1000);
  for (let i = 0; i < 10; i++) r.record(1);
  expect(r.percentiles()).toEqual({ count: 20, p50: 1, p99: 1 });
});
