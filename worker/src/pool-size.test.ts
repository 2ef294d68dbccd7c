// Pool size follows the function's concurrency limit (issue 13, hole 6): with the default worker
// settings, maxWarm 8 under a maxConcurrency of 10 restored and threw away a VM for every request
// above 8. Driven by a manual clock: counts of cold starts, never timings.
import { toVmRequest, type VmSnapshot } from '@fn/vmm';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithSnapshots } from './test-support/backend.js';
import { eventually } from './test-support/eventually.js';
import { snapshotOf } from './test-support/functions.js';
import { ManualClock } from './test-support/manual-clock.js';
import { Worker } from './worker.js';

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

describeWithSnapshots('pool size', (backend) => {
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend);
  });

  it('with default settings, a burst at the concurrency limit (10) is served warm the second time', { timeout: 120_000 }, async () => {
    const clock = new ManualClock();
    const w = (worker = await Worker.start({ clock, hosts: 1, inProcessHost: backend === 'ptrace' }));
    const target = { key: 'f', snapshot, timeoutMs: 10_000, maxConcurrency: 10 };
    const burst = () => Promise.all(Array.from({ length: 10 }, () => w.run(target, toVmRequest({}))));
    await burst();
    clock.advance(0);
    await eventually(() => expect(w.metrics().pools[0]).toMatchObject({ idle: 10, starting: 0, target: 10 }));
    const second = await burst();
    expect(second.filter((r) => r.cold)).toHaveLength(0);
  });

  it('an explicit maxWarm still caps every pool', { timeout: 120_000 }, async () => {
    const clock = new ManualClock();
    const w = (worker = await Worker.start({ clock, hosts: 1, inProcessHost: backend === 'ptrace', maxWarm: 3 }));
    await Promise.all(Array.from({ length: 5 }, () => w.run({ key: 'f', snapshot, timeoutMs: 10_000, maxConcurrency: 10 }, toVmRequest({}))));
    clock.advance(0);
    await eventually(() => expect(w.metrics().pools[0]).toMatchObject({ target: 3 }));
  });
});
