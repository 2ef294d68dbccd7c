/**
 * Placement, observed from outside: which fake worker an invocation reaches, given the capacity
 * reports the scheduler has heard and how long ago it heard them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NoWorkersError } from './errors.js';
import { flush } from './test-support/fake-clock.js';
import { scheduleRequest } from './test-support/fake-worker.js';
import { harness, type Harness } from './test-support/harness.js';

let h: Harness;
afterEach(() => h.close());

const on = (h: Harness, worker: string) => h.workers[worker]!.received.map((r) => r.invocationId);

describe('locality', () => {
  it('prefers a worker with a warm idle VM of the snapshot over a less loaded one', async () => {
    h = await harness({ workers: ['w1', 'w2'] });
    h.scheduler.reportCapacity(
      h.workers.w1!.report(
        [
          { key: 'k1', idle: 1, busy: 0 },
          { key: 'other', idle: 0, busy: 4 },
        ],
        10,
      ),
    );
    h.scheduler.reportCapacity(h.workers.w2!.report([], 10));
    const warm = scheduleRequest({ snapshotKey: 'k1' });
    const cold = scheduleRequest({ snapshotKey: 'k2' });
    h.invoke(warm);
    h.invoke(cold);
    await flush();
    expect(on(h, 'w1')).toEqual([warm.invocationId]);
    expect(on(h, 'w2')).toEqual([cold.invocationId]);
  });

  it('counts a warm VM as used once it has placed an invocation on it', async () => {
    h = await harness({ workers: ['w1', 'w2'] });
    h.scheduler.reportCapacity(h.workers.w1!.report([{ key: 'k1', idle: 1, busy: 2 }], 10));
    h.scheduler.reportCapacity(h.workers.w2!.report([], 10));
    const first = scheduleRequest({ snapshotKey: 'k1' });
    const second = scheduleRequest({ snapshotKey: 'k1' });
    h.invoke(first);
    await flush();
    h.invoke(second);
    await flush();
    expect(on(h, 'w1')).toEqual([first.invocationId]);
    expect(on(h, 'w2')).toEqual([second.invocationId]);

    // Finished, the VM is idle in w1's pool again: the next k1 invocation goes back there.
    h.workers.w1!.finish();
    await flush();
    const third = scheduleRequest({ snapshotKey: 'k1' });
    h.invoke(third);
    await flush();
    expect(on(h, 'w1')).toEqual([first.invocationId, third.invocationId]);
  });
});

describe('load', () => {
  it('spreads invocations without locality over the least loaded workers', async () => {
    h = await harness({ workers: ['w1', 'w2', 'w3'] });
    for (let i = 0; i < 6; i++) h.invoke(scheduleRequest());
    await flush();
    expect([1, 2, 3].map((n) => h.workers[`w${n}`]!.running.size)).toEqual([2, 2, 2]);
  });

  it('weighs what workers report busy, relative to their size', async () => {
    h = await harness({ workers: ['w1', 'w2'] });
    h.scheduler.reportCapacity(h.workers.w1!.report([{ key: 'x', idle: 0, busy: 3 }], 10));
    h.scheduler.reportCapacity(h.workers.w2!.report([{ key: 'x', idle: 0, busy: 3 }], 4));
    h.invoke(scheduleRequest());
    await flush();
    expect(h.workers.w1!.running.size).toBe(1);
  });

  it('passes over a worker that is full while another has room', async () => {
    h = await harness({ workers: ['w1', 'w2'] });
    h.scheduler.reportCapacity(h.workers.w1!.report([{ key: 'k1', idle: 1, busy: 3 }], 4));
    h.scheduler.reportCapacity(h.workers.w2!.report([], 4));
    h.invoke(scheduleRequest({ snapshotKey: 'k1' }));
    await flush();
    expect(h.workers.w2!.running.size).toBe(0);
    // Not full (busy 3 of 4): its warm VM wins. Now full from the scheduler's own count too:
    h.scheduler.reportCapacity(h.workers.w1!.report([{ key: 'k1', idle: 1, busy: 4 }], 4));
    h.invoke(scheduleRequest({ snapshotKey: 'k1' }));
    await flush();
    expect(h.workers.w2!.running.size).toBe(1);
  });
});

describe('stale workers', () => {
  it('stops choosing a worker that has not reported for staleAfterIntervals intervals', async () => {
    h = await harness({ workers: ['w1', 'w2'], reportIntervalMs: 1_000, staleAfterIntervals: 3 });
    h.scheduler.reportCapacity(h.workers.w1!.report([{ key: 'k1', idle: 5, busy: 0 }]));
    await h.clock.advance(2_000);
    h.scheduler.reportCapacity(h.workers.w2!.report());
    h.invoke(scheduleRequest({ snapshotKey: 'k1' }));
    await flush();
    expect(h.workers.w1!.received).toHaveLength(1); // 2 s of silence: still trusted, and warm.

    await h.clock.advance(1_001);
    h.invoke(scheduleRequest({ snapshotKey: 'k1' }));
    await flush();
    expect(h.workers.w1!.received).toHaveLength(1);
    expect(h.workers.w2!.received).toHaveLength(1);
    expect(h.scheduler.stats().liveWorkers).toEqual(['w2']);
  });

  it('takes a worker back when it reports again, and ignores reports older than the last', async () => {
    h = await harness({ workers: ['w1'], reportIntervalMs: 1_000, staleAfterIntervals: 3 });
    await h.clock.advance(3_001);
    await expect(h.invoke(scheduleRequest()).promise).rejects.toThrow(NoWorkersError);
    const at = Date.now() + 10_000;
    h.scheduler.reportCapacity(h.workers.w1!.report([], 10, at));
    h.scheduler.reportCapacity(h.workers.w1!.report([], 0, at - 1)); // Late, out of order: must not count.
    h.invoke(scheduleRequest());
    await flush();
    expect(h.workers.w1!.received).toHaveLength(1);
  });
});
