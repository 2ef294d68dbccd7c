/**
 * Scheduling across processes on a real nats-server: gateway client, two schedulers in one queue
 * group and two workers, each on its own NATS connection, as separate processes would be. Every
 * invocation runs exactly once, both schedulers and both workers take a share, and 6 MB bodies
 * cross both hops (gateway → scheduler → worker) as bytes.
 */
import type { InvocationRequest } from '@fn/contract';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsBus } from './bus/nats.js';
import { SchedulerClient } from './client.js';
import { Scheduler } from './scheduler.js';
import { serveScheduler } from './serve.js';
import { scheduleRequest } from './test-support/fake-worker.js';
import { startNatsServer, type TestNatsServer } from './test-support/nats-server.js';
import { publishCapacity, serveWorker } from './worker-endpoint.js';

let nats: TestNatsServer;
const buses: NatsBus[] = [];
const timers: NodeJS.Timeout[] = [];
const schedulers: Scheduler[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  timers.forEach(clearInterval);
  schedulers.forEach((s) => s.close());
  await Promise.all(buses.map((b) => b.close()));
  await nats?.stop();
});

async function connect(): Promise<NatsBus> {
  const bus = await NatsBus.connect(nats.url, { subjectPrefix: 'sched.v1' });
  buses.push(bus);
  return bus;
}

it('runs every invocation exactly once over two schedulers and two workers, and carries 6 MB bodies both ways', async () => {
  const ran = new Map<string, string[]>();
  for (const workerId of ['w1', 'w2']) {
    const bus = await connect();
    await serveWorker(bus, {
      workerId,
      invoke: async (req) => {
        ran.set(req.invocationId, [...(ran.get(req.invocationId) ?? []), workerId]);
        await new Promise((r) => setTimeout(r, 20)); // Long enough for invocations to overlap.
        const body = req.request.body.byteLength > 1000 ? req.request.body.slice().reverse() : new TextEncoder().encode(`${workerId}:${req.invocationId}`);
        return { response: { status: 200, headers: [], body }, logs: [], timings: {}, cold: false };
      },
    });
    const report = () => void publishCapacity(bus, { workerId, pools: [], vmsHeld: 0, vmsMax: 50, at: Date.now() });
    report();
    timers.push(setInterval(report, 500));
  }
  const served = [0, 0];
  for (const i of [0, 1]) {
    const bus = await connect();
    const scheduler = new Scheduler({ bus, reportIntervalMs: 500 });
    schedulers.push(scheduler);
    const invoke = scheduler.invoke.bind(scheduler);
    scheduler.invoke = (req) => (served[i]!++, invoke(req));
    await serveScheduler(bus, scheduler);
  }
  const client = new SchedulerClient(await connect(), { reportIntervalMs: 500 });
  // Both schedulers must have heard both workers before the first invocation.
  for (const start = Date.now(); !schedulers.every((s) => s.stats().liveWorkers.length === 2); ) {
    if (Date.now() - start > 10_000) throw new Error('the schedulers never heard both workers');
    await new Promise((r) => setTimeout(r, 20));
  }

  const requests: InvocationRequest[] = Array.from({ length: 60 }, () => scheduleRequest({ limits: { timeoutMs: 10_000, maxConcurrency: 100 } }));
  const replies = await Promise.all(requests.map((req) => client.invoke(req)));
  replies.forEach((reply, i) => expect(new TextDecoder().decode(reply.response.body)).toMatch(new RegExp(`^w[12]:${requests[i]!.invocationId}$`)));
  expect([...ran.values()].every((workers) => workers.length === 1)).toBe(true);
  expect(ran.size).toBe(60);
  expect(served[0]! + served[1]!).toBe(60);
  expect(served[0]).toBeGreaterThan(0);
  expect(served[1]).toBeGreaterThan(0);
  const perWorker = [...ran.values()].flat();
  expect(new Set(perWorker)).toEqual(new Set(['w1', 'w2']));

  const body = new Uint8Array(6 * 1024 * 1024).map((_, i) => (i * 7) % 256);
  const big = scheduleRequest({ limits: { timeoutMs: 30_000 }, request: { method: 'POST', url: '/', headers: [], body } });
  const reply = await client.invoke(big);
  expect(reply.response.body.byteLength).toBe(body.byteLength);
  expect(Buffer.from(reply.response.body).equals(Buffer.from(body.slice().reverse()))).toBe(true);
});
