/**
 * Limits and queues, observed from outside: a scheduler with fake workers on an InProcessBus. What
 * counts is what reaches the workers (how many at once, in which order) and what the callers get.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OverloadedError } from './errors.js';
import { flush } from './test-support/fake-clock.js';
import { scheduleRequest } from './test-support/fake-worker.js';
import { harness, type Harness } from './test-support/harness.js';

let h: Harness;
afterEach(() => h.close());

const ids = (h: Harness, worker = 'w1') => h.workers[worker]!.received.map((r) => r.invocationId);

describe('per-function concurrency', () => {
  it('runs exactly maxConcurrency invocations at once and queues the rest', async () => {
    h = await harness();
    const calls = Array.from({ length: 5 }, () => h.invoke(scheduleRequest({ limits: { maxConcurrency: 2 } })));
    await flush();
    expect(h.workers.w1!.running.size).toBe(2);
    expect(h.scheduler.stats()).toMatchObject({ running: 2, queued: 3 });
    expect(calls.map((c) => c.state)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);

    h.workers.w1!.finish();
    await flush();
    expect(calls[0]!.state).toBe('fulfilled');
    expect(h.workers.w1!.running.size).toBe(2);
    expect(h.scheduler.stats()).toMatchObject({ running: 2, queued: 2 });
  });

  it('starts queued invocations in arrival order, whichever running one finishes', async () => {
    h = await harness();
    const reqs = Array.from({ length: 6 }, () => scheduleRequest({ limits: { maxConcurrency: 2 } }));
    const calls = reqs.map((r) => h.invoke(r));
    await flush();
    // Finish the newest running invocation each time: the next to start must still be the oldest waiting.
    for (let i = 0; i < 6; i++) {
      const running = [...h.workers.w1!.running.keys()];
      h.workers.w1!.finish(running[running.length - 1]);
      await flush();
    }
    h.workers.w1!.finishAll();
    await flush();
    expect(ids(h)).toEqual(reqs.map((r) => r.invocationId));
    expect(calls.every((c) => c.state === 'fulfilled')).toBe(true);
  });

  it('counts versions of one function together and keeps functions apart', async () => {
    h = await harness();
    h.invoke(scheduleRequest({ version: 1, limits: { maxConcurrency: 1 } }));
    const v2 = h.invoke(scheduleRequest({ version: 2, snapshotKey: 'acme/hello@2', limits: { maxConcurrency: 1 } }));
    h.invoke(scheduleRequest({ function: 'other', limits: { maxConcurrency: 1 } }));
    await flush();
    expect(v2.state).toBe('pending');
    expect(h.workers.w1!.received.map((r) => `${r.function}@${r.version}`)).toEqual(['hello@1', 'other@1']);
  });
});

describe('per-tenant concurrency', () => {
  it('caps a tenant across its functions, admits the oldest waiter first, and leaves other tenants alone', async () => {
    h = await harness({ tenantMaxConcurrency: 3 });
    const fns = ['f1', 'f1', 'f2', 'f2', 'f3'];
    const reqs = fns.map((fn) => scheduleRequest({ function: fn, snapshotKey: `acme/${fn}@1` }));
    reqs.forEach((r) => h.invoke(r));
    await flush();
    expect(h.workers.w1!.running.size).toBe(3);
    expect(h.scheduler.stats().queued).toBe(2);

    const globex = scheduleRequest({ tenant: 'globex' });
    h.invoke(globex);
    await flush();
    expect(h.workers.w1!.running.size).toBe(4);

    h.workers.w1!.finish(reqs[0]!.invocationId);
    await flush();
    // f2's second call arrived before f3's: it goes first although it is another function.
    expect(ids(h)).toEqual([...reqs.slice(0, 3), globex, reqs[3]!].map((r) => r.invocationId));
    expect(h.scheduler.stats().queued).toBe(1);
  });
});

describe('bounded queues', () => {
  it('refuses with OverloadedError (scope function) when the function queue is full', async () => {
    h = await harness({ maxQueueLength: 2 });
    const calls = Array.from({ length: 4 }, () => h.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } })));
    await flush();
    expect(calls.map((c) => c.state)).toEqual(['pending', 'pending', 'pending', 'rejected']);
    const err = calls[3]!.error as OverloadedError;
    expect(err).toBeInstanceOf(OverloadedError);
    expect(err.scope).toBe('function');
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    expect(ids(h)).toHaveLength(1);
  });

  it("names the tenant when the tenant's limit is what keeps the queue from moving", async () => {
    h = await harness({ maxQueueLength: 1, tenantMaxConcurrency: 1 });
    h.invoke(scheduleRequest({ function: 'f1' }));
    const waiting = h.invoke(scheduleRequest({ function: 'f2' }));
    const refused = h.invoke(scheduleRequest({ function: 'f2' }));
    await flush();
    expect(waiting.state).toBe('pending');
    expect(refused.error).toBeInstanceOf(OverloadedError);
    expect(refused.error).toMatchObject({ scope: 'tenant' });
  });

  it('refuses with scope platform when the platform-wide queue bound is reached', async () => {
    h = await harness({ maxQueuedTotal: 1 });
    h.invoke(scheduleRequest({ function: 'f1', limits: { maxConcurrency: 1 } }));
    h.invoke(scheduleRequest({ function: 'f1', limits: { maxConcurrency: 1 } }));
    h.invoke(scheduleRequest({ function: 'f2', limits: { maxConcurrency: 1 } }));
    const refused = h.invoke(scheduleRequest({ function: 'f2', limits: { maxConcurrency: 1 } }));
    await flush();
    expect(refused.error).toBeInstanceOf(OverloadedError);
    expect(refused.error).toMatchObject({ scope: 'platform' });
  });
});

describe('queue wait', () => {
  it('refuses an invocation that waited maxQueueWaitMs, and never runs it', async () => {
    h = await harness({ maxQueueWaitMs: 1_000 });
    h.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } }));
    const waiting = h.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } }));
    await h.clock.advance(999);
    expect(waiting.state).toBe('pending');
    await h.clock.advance(1);
    expect(waiting.error).toBeInstanceOf(OverloadedError);
    expect(waiting.error).toMatchObject({ scope: 'function' });
    expect((waiting.error as OverloadedError).retryAfterSeconds).toBeGreaterThan(0);
    h.workers.w1!.finishAll();
    await flush();
    expect(ids(h)).toHaveLength(1);
    expect(h.scheduler.stats().queued).toBe(0);
  });

  it("waits no longer than the invocation's own timeout", async () => {
    h = await harness({ maxQueueWaitMs: 10_000 });
    h.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } }));
    const waiting = h.invoke(scheduleRequest({ limits: { maxConcurrency: 1, timeoutMs: 200 } }));
    await h.clock.advance(200);
    expect(waiting.error).toBeInstanceOf(OverloadedError);
  });

  it('refuses at once when the expected wait already exceeds the budget', async () => {
    // Workers stay fresh and invocations may run long: only the queue wait is being tested here.
    h = await harness({ maxQueueWaitMs: 1_000, reportIntervalMs: 60_000 });
    const req = () => scheduleRequest({ limits: { maxConcurrency: 1, timeoutMs: 60_000 } });
    const first = h.invoke(req());
    await flush();
    await h.clock.advance(5_000); // This function's invocations take about 5 s.
    h.workers.w1!.finish();
    await flush();
    expect(first.state).toBe('fulfilled');

    h.invoke(req());
    const refused = h.invoke(req());
    await flush();
    expect(refused.error).toBeInstanceOf(OverloadedError);
    expect(refused.error).toMatchObject({ scope: 'function', retryAfterSeconds: 5 });
  });
});

describe('platform capacity', () => {
  it('queues beyond the VMs live workers can hold, and admits waiters when a worker adds capacity', async () => {
    h = await harness({ workers: ['w1', 'w2'], maxQueueWaitMs: 1_000 });
    h.scheduler.reportCapacity(h.workers.w1!.report([], 2));
    h.scheduler.reportCapacity(h.workers.w2!.report([], 0));
    const calls = Array.from({ length: 4 }, () => h.invoke(scheduleRequest()));
    await flush();
    expect(h.workers.w1!.running.size).toBe(2);
    expect(h.scheduler.stats().queued).toBe(2);

    h.scheduler.reportCapacity(h.workers.w2!.report([], 1));
    await flush();
    expect(h.workers.w2!.running.size).toBe(1);

    await h.clock.advance(1_000);
    expect(calls[3]!.error).toBeInstanceOf(OverloadedError);
    expect(calls[3]!.error).toMatchObject({ scope: 'platform' });
  });
});
