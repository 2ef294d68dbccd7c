/**
 * Running an invocation on a worker: retry on another worker only while it cannot have started,
 * at most once, and a deadline on every wait. Driven by a fake clock: nothing here sleeps.
 */
import { InvocationTimeoutError } from '@fn/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { BusContractError } from './bus/errors.js';
import { InProcessBus } from './bus/in-process.js';
import { WorkerClaim } from './contracts.js';
import { NoWorkersError, SchedulerClosedError, WorkerFailedError, WorkerLostError, WorkerTimeoutError, WorkerUnavailableError } from './errors.js';
import { flush } from './test-support/fake-clock.js';
import { scheduleRequest } from './test-support/fake-worker.js';
import { harness, type Harness } from './test-support/harness.js';

let h: Harness;
afterEach(() => h.close());

/** w1 holds a warm VM of the request's snapshot, so it is always the first choice; w2 is next. */
async function preferW1(workers = ['w1', 'w2']): Promise<void> {
  h = await harness({ workers, claimTimeoutMs: 500, executionGraceMs: 1_000 });
  h.scheduler.reportCapacity(h.workers.w1!.report([{ key: 'acme/hello@1', idle: 5, busy: 0 }]));
  if (workers.includes('w3')) h.scheduler.reportCapacity(h.workers.w3!.report([{ key: 'x', idle: 0, busy: 5 }]));
}

describe('the reply', () => {
  it("is the worker's reply, with the scheduler's own time added to its timings", async () => {
    h = await harness();
    const call = h.invoke(scheduleRequest({ invocationId: 'inv-reply' }));
    await flush();
    h.workers.w1!.finish('inv-reply', { response: { status: 201 }, cold: true });
    await flush();
    expect(call.reply).toMatchObject({ response: { status: 201 }, cold: true });
    expect(new TextDecoder().decode(call.reply!.response.body)).toBe('w1:inv-reply');
    expect(call.reply!.timings.scheduler).toBeGreaterThanOrEqual(call.reply!.timings.dispatch!);
    expect(h.workers.w1!.received[0]!.limits).toEqual({ timeoutMs: 3_000, memoryMiB: 64, maxConcurrency: 10 });
  });

  it('refuses a malformed request on a bus that crosses processes, before it takes a slot', async () => {
    h = await harness();
    const { SchedulerInvoke } = await import('./contracts.js');
    const bus = new InProcessBus({ hub: h.hub, wire: true });
    const { serveScheduler } = await import('./serve.js');
    const served = await serveScheduler(bus, h.scheduler);
    const err = await bus.request(SchedulerInvoke, { ...scheduleRequest(), tenant: 'Not A Name' }, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusContractError);
    expect(h.scheduler.stats()).toMatchObject({ running: 0, queued: 0 });
    await served.close();
    await bus.close();
  });

  it('fails with NoWorkersError when no worker has reported', async () => {
    h = await harness({ workers: [] });
    await expect(h.invoke(scheduleRequest()).promise).rejects.toThrow(NoWorkersError);
  });
});

describe('retry on another worker', () => {
  it('moves on when the chosen worker is gone (no responders), and forgets it', async () => {
    await preferW1();
    await h.workers.w1!.stop();
    const call = h.invoke(scheduleRequest());
    await flush();
    expect(h.workers.w2!.received).toHaveLength(1);
    h.workers.w2!.finishAll();
    await flush();
    expect(call.state).toBe('fulfilled');
    expect(h.scheduler.stats().liveWorkers).toEqual(['w2']);
  });

  it('moves on when the chosen worker does not answer the claim in time', async () => {
    await preferW1();
    h.workers.w1!.claimMode = 'hang';
    const call = h.invoke(scheduleRequest());
    await flush();
    expect(h.workers.w1!.claims).toBe(1);
    expect(h.workers.w2!.received).toHaveLength(0);
    await h.clock.advance(500);
    expect(h.workers.w2!.received).toHaveLength(1);
    expect(h.workers.w1!.received).toHaveLength(0);
    h.workers.w2!.finishAll();
    await flush();
    expect(call.state).toBe('fulfilled');
  });

  it('moves on when the worker that took the claim is gone before the invocation reaches it', async () => {
    await preferW1();
    // A worker that answers claims but no longer serves invocations (it died in between).
    const half = new InProcessBus({ hub: h.hub });
    let claims = 0;
    await half.serve(WorkerClaim, () => (claims++, { accepted: true }), { subject: 'worker.w0.claim' });
    h.scheduler.reportCapacity({ workerId: 'w0', pools: [{ key: 'acme/hello@1', idle: 9, busy: 0 }], vmsHeld: 9, vmsMax: 10, at: 1 });
    const call = h.invoke(scheduleRequest());
    await flush();
    expect(claims).toBe(1); // w0 sorts first among equally warm, equally idle workers.
    expect(h.workers.w1!.received).toHaveLength(1);
    h.workers.w1!.finishAll();
    await flush();
    expect(call.state).toBe('fulfilled');
    await half.close();
  });

  it('moves on when the chosen worker declines', async () => {
    await preferW1();
    h.workers.w1!.claimMode = 'decline';
    h.invoke(scheduleRequest());
    await flush();
    expect(h.workers.w2!.received).toHaveLength(1);
  });

  it('tries two workers at most, then fails with WorkerUnavailableError saying why', async () => {
    await preferW1(['w1', 'w2', 'w3']);
    h.workers.w1!.claimMode = 'decline';
    await h.workers.w2!.stop();
    const call = h.invoke(scheduleRequest());
    await flush();
    expect(call.error).toBeInstanceOf(WorkerUnavailableError);
    expect((call.error as Error).message).toMatch(/w1: declined: full; w2: no responders/);
    expect(h.workers.w3!.claims).toBe(0);
    expect(h.scheduler.stats().running).toBe(0);
  });

  it('never retries once the worker has taken the invocation: a stuck run ends in WorkerTimeoutError', async () => {
    await preferW1();
    h.workers.w1!.invokeMode = 'hang';
    const call = h.invoke(scheduleRequest({ limits: { timeoutMs: 3_000 } }));
    await flush();
    await h.clock.advance(3_999);
    expect(call.state).toBe('pending');
    await h.clock.advance(1); // timeout + grace
    expect(call.error).toBeInstanceOf(WorkerTimeoutError);
    expect(call.error).toMatchObject({ workerId: 'w1' });
    expect(h.workers.w2!.claims).toBe(0);
    expect(h.scheduler.stats().running).toBe(0);
  });

  it('never retries a run that failed on the worker: an error of no kind is a WorkerFailedError with the cause', async () => {
    await preferW1();
    h.workers.w1!.invokeMode = 'fail';
    const call = h.invoke(scheduleRequest());
    await flush();
    expect(call.error).toBeInstanceOf(WorkerFailedError);
    expect((call.error as Error).message).toMatch(/a bug in the worker/);
    expect(h.workers.w2!.claims).toBe(0);
  });

  it("passes the function's own timeout on the worker through with its kind, not as a worker failure", async () => {
    await preferW1();
    h.workers.w1!.invokeMode = 'function-timeout';
    const call = h.invoke(scheduleRequest());
    await flush();
    expect(call.error).toBeInstanceOf(InvocationTimeoutError);
    expect(call.error).toMatchObject({ kind: 'timeout', name: 'InvocationTimeoutError' });
    expect((call.error as Error).message).toMatch(/300 ms timeout/);
    expect(h.workers.w2!.claims).toBe(0);
  });
});

describe('a worker that falls silent while it runs an invocation', () => {
  it('ends the invocation with WorkerLostError (unavailable: 503) once the worker is stale, long before its timeout', async () => {
    await preferW1();
    h.workers.w1!.invokeMode = 'hang';
    const call = h.invoke(scheduleRequest({ limits: { timeoutMs: 60_000 } }));
    await flush();
    expect(h.workers.w1!.claims).toBe(1);
    // w2 keeps reporting; w1 (dead) does not. Staleness: 3 intervals of 1 s.
    for (let t = 1; t <= 4; t++) {
      h.scheduler.reportCapacity(h.workers.w2!.report([], 10, Date.now() + t));
      await h.clock.advance(1_000);
    }
    expect(call.state).toBe('rejected');
    expect(call.error).toBeInstanceOf(WorkerLostError);
    expect(call.error).toMatchObject({ workerId: 'w1', kind: 'unavailable' });
    expect((call.error as Error).message).toMatch(/worker w1 stopped reporting .* may or may not have run/);
    expect(h.workers.w2!.claims).toBe(0); // Not retried: it may have run.
    expect(h.scheduler.stats().running).toBe(0);
  });

  it('ends the invocation when the worker restarted under the same id (a new incarnation) before it went stale', async () => {
    h = await harness({ workers: ['w1'], claimTimeoutMs: 500 });
    h.scheduler.reportCapacity({ ...h.workers.w1!.report([], 10, Date.now()), incarnation: 'first' });
    h.workers.w1!.invokeMode = 'hang';
    const call = h.invoke(scheduleRequest({ limits: { timeoutMs: 60_000 } }));
    await flush();
    h.scheduler.reportCapacity({ ...h.workers.w1!.report([], 10, Date.now() + 1), incarnation: 'first' });
    await h.clock.advance(1_000);
    expect(call.state).toBe('pending');
    h.scheduler.reportCapacity({ ...h.workers.w1!.report([], 10, Date.now() + 2), incarnation: 'second' });
    await h.clock.advance(1_000);
    expect(call.error).toBeInstanceOf(WorkerLostError);
    expect((call.error as Error).message).toMatch(/or restarted/);
  });

  it('keeps waiting for a long invocation on a worker that goes on reporting', async () => {
    await preferW1(); // The fake worker holds the invocation until finish().
    const call = h.invoke(scheduleRequest({ limits: { timeoutMs: 60_000 } }));
    await flush();
    for (let t = 1; t <= 10; t++) {
      h.scheduler.reportCapacity(h.workers.w1!.report([], 10, Date.now() + t));
      await h.clock.advance(1_000);
    }
    expect(call.state).toBe('pending');
    h.workers.w1!.finishAll();
    await flush();
    expect(call.error).toBeUndefined();
    expect(call.state).toBe('fulfilled');
  });
});

describe('a worker in the same process', () => {
  it('gets the invocation with no claim round trip, by reference', async () => {
    h = await harness({ sameProcess: true });
    const request = scheduleRequest({ invocationId: 'inv-local' });
    const call = h.invoke(request);
    await flush();
    expect(h.workers.w1!.claims).toBe(0);
    expect(h.workers.w1!.received[0]!.request).toBe(request.request);
    h.workers.w1!.finish('inv-local');
    await flush();
    expect(call.state).toBe('fulfilled');
  });

  it('passes a failure with a kind through with its kind', async () => {
    h = await harness({ sameProcess: true });
    h.workers.w1!.invokeMode = 'function-timeout';
    const call = h.invoke(scheduleRequest());
    await flush();
    expect(call.error).toBeInstanceOf(InvocationTimeoutError);
  });
});

describe('deadlines', () => {
  it('ends an invocation whose every claim hangs after two claim timeouts', async () => {
    await preferW1();
    h.workers.w1!.claimMode = 'hang';
    h.workers.w2!.claimMode = 'hang';
    const call = h.invoke(scheduleRequest());
    await flush();
    await h.clock.advance(999);
    expect(call.state).toBe('pending');
    await h.clock.advance(1);
    expect(call.error).toBeInstanceOf(WorkerUnavailableError);
  });

  it('frees the slot of a timed-out invocation for the next one', async () => {
    await preferW1(['w1']);
    h.workers.w1!.invokeMode = 'hang';
    h.invoke(scheduleRequest({ limits: { maxConcurrency: 1, timeoutMs: 500 } }));
    const next = h.invoke(scheduleRequest({ limits: { maxConcurrency: 1, timeoutMs: 2_000 } }));
    await flush();
    expect(h.workers.w1!.received).toHaveLength(1);
    await h.clock.advance(1_500); // The first one's timeout + grace.
    expect(h.workers.w1!.received).toHaveLength(2);
    expect(next.state).toBe('pending');
  });

  it('drops a queued invocation whose caller gave up (signal), and never runs it', async () => {
    h = await harness();
    h.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } }));
    const controller = new AbortController();
    const queued = h.invoke({ ...scheduleRequest({ limits: { maxConcurrency: 1 } }), signal: controller.signal });
    await flush();
    expect(h.scheduler.stats().queued).toBe(1);
    controller.abort(new Error('gateway deadline'));
    await flush();
    expect((queued.error as Error).message).toBe('gateway deadline');
    expect(h.scheduler.stats().queued).toBe(0);
    h.workers.w1!.finishAll();
    await flush();
    expect(h.workers.w1!.received).toHaveLength(1);
  });

  it('refuses queued invocations when the scheduler closes', async () => {
    h = await harness();
    h.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } }));
    const queued = h.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } }));
    await flush();
    h.scheduler.close();
    await flush();
    expect(queued.error).toBeInstanceOf(SchedulerClosedError);
  });
});
