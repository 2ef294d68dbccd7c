/**
 * The whole path over one InProcessBus, as the gateway will use it: SchedulerClient → bus →
 * scheduler → bus → worker, with capacity reports published on the bus, and the scheduler's
 * errors arriving at the client as their own classes.
 */
import { InvocationTimeoutError } from '@fn/contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract } from './bus/contract.js';
import { RemoteError } from './bus/errors.js';
import { InProcessBus, InProcessHub } from './bus/in-process.js';
import { SchedulerClient } from './client.js';
import { SchedulerInvoke } from './contracts.js';
import { NoSchedulerError, NoWorkersError, OverloadedError, WorkerFailedError } from './errors.js';
import { Scheduler } from './scheduler.js';
import { serveScheduler, type ServedScheduler } from './serve.js';
import { flush } from './test-support/fake-clock.js';
import { FakeWorker, scheduleRequest } from './test-support/fake-worker.js';

let buses: InProcessBus[];
let scheduler: Scheduler;
let served: ServedScheduler;
let client: SchedulerClient;
let gatewayBus: InProcessBus;
let workerBus: InProcessBus;

beforeEach(async () => {
  const hub = new InProcessHub();
  // As across machines: every message cloned and checked on both ends.
  buses = [0, 1, 2].map(() => new InProcessBus({ hub, wire: true }));
  const [schedulerBus] = buses as [InProcessBus, InProcessBus, InProcessBus];
  [, gatewayBus, workerBus] = buses as [InProcessBus, InProcessBus, InProcessBus];
  scheduler = new Scheduler({ bus: schedulerBus, maxQueueLength: 0 });
  served = await serveScheduler(schedulerBus, scheduler);
  client = new SchedulerClient(gatewayBus);
});

afterEach(async () => {
  await served.close();
  scheduler.close();
  await Promise.all(buses.map((b) => b.close()));
});

async function workerOnline(id: string): Promise<FakeWorker> {
  const worker = await FakeWorker.start(workerBus, id);
  await worker.publishReport();
  for (let i = 0; i < 100 && !scheduler.stats().liveWorkers.includes(id); i++) await flush(1);
  return worker;
}

describe('the scheduler on the bus', () => {
  it('learns workers from their published reports and returns their replies to the client', async () => {
    const worker = await workerOnline('w1');
    const reply = client.invoke(scheduleRequest({ invocationId: 'inv-bus' }));
    for (let i = 0; i < 100 && worker.running.size === 0; i++) await flush(1);
    worker.finish('inv-bus', { response: { status: 202 } });
    const result = await reply;
    expect(result.response.status).toBe(202);
    expect(new TextDecoder().decode(result.response.body)).toBe('w1:inv-bus');
  });

  it('hands the client an OverloadedError it can map to 429 + Retry-After', async () => {
    await workerOnline('w1');
    void client.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } })).catch(() => {});
    const err = await client.invoke(scheduleRequest({ limits: { maxConcurrency: 1 } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverloadedError);
    expect(err).toMatchObject({ scope: 'function' });
    expect((err as OverloadedError).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('hands the client the other failures as their own classes too', async () => {
    await expect(client.invoke(scheduleRequest())).rejects.toThrow(NoWorkersError);
    const worker = await workerOnline('w1');
    worker.invokeMode = 'fail';
    const err = await client.invoke(scheduleRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerFailedError);
    expect(err).toMatchObject({ workerId: 'w1' });
  });

  it('tells the client no scheduler is there (unavailable: 503) when nobody serves scheduler.invoke', async () => {
    await served.close();
    const err = await client.invoke(scheduleRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoSchedulerError);
    expect(err).toMatchObject({ kind: 'unavailable' });
    expect((err as Error).message).toMatch(/fn up --role scheduler/);
  });

  it("hands the client a worker's failure with its kind across both hops", async () => {
    const worker = await workerOnline('w1');
    worker.invokeMode = 'function-timeout';
    const err = await client.invoke(scheduleRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvocationTimeoutError);
    expect(err).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/300 ms timeout/) });
  });

  it('stops waiting when the caller aborts', async () => {
    await workerOnline('w1');
    const controller = new AbortController();
    const pending = client.invoke({ ...scheduleRequest(), signal: controller.signal });
    controller.abort(new Error('client gave up'));
    await expect(pending).rejects.toThrow('client gave up');
  });

  it('refuses a malformed invocation at the scheduler even from a client that skipped validation', async () => {
    await workerOnline('w1');
    const Unchecked = defineContract({ subject: SchedulerInvoke.subject, request: z.any(), reply: z.any() });
    const err = await gatewayBus
      .request(Unchecked, { ...scheduleRequest(), limits: { timeoutMs: 1_000, memoryMiB: 64 } }, { timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ remoteName: 'BusContractError' });
    expect(scheduler.stats().running).toBe(0);
    expect((err as Error).message).toMatch(/limits\.maxConcurrency/);
  });
});
