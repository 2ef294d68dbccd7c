// The JetStream queue on a real nats-server: jobs (and their records) survive a restart of
// nats-server on its file store; a delivery nobody finished comes back after the ack wait as the
// next attempt; a retry comes back after its delay; a final record is never overwritten; bodies
// over one message's size travel through the object store, as bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, expect, it } from 'vitest';
import { newRecord, type AsyncJob } from '@fn/gateway';
import { freePort, startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';
import { JetStreamAsyncQueue } from './jetstream-queue.js';

const storeDir = mkdtempSync(join(tmpdir(), 'fn-async-js-'));
let server: TestNatsServer | undefined;
const connections: NatsConnection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
  rmSync(storeDir, { recursive: true, force: true });
});

function job(id: string, body = new TextEncoder().encode(`body of ${id}`)): AsyncJob {
  return {
    id,
    tenant: 'acme',
    function: 'echo',
    version: 1,
    snapshotKey: 'sha256-x',
    limits: { timeoutMs: 1000, memoryMiB: 64, maxConcurrency: 10 },
    request: { method: 'POST', url: '/x', headers: [['content-type', 'text/plain']], body },
    createdAt: Date.now(),
  };
}

async function open(url: string): Promise<JetStreamAsyncQueue> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  connections.push(nc);
  return JetStreamAsyncQueue.open(nc, 'jsq.v1', { ackWaitMs: 1_500 });
}

it('keeps jobs and records across a nats-server restart, redelivers what nobody finished, and never overwrites a final record', {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  server = await startNatsServer({ storeDir: join(storeDir, 'nats'), port });
  const queue = await open(server.url);
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 256);
  await queue.enqueue(job('a'));
  await queue.enqueue(job('b', big));
  expect(await queue.record('a')).toMatchObject({ id: 'a', status: 'queued', attempts: 0 });

  await server.stop(); // SIGKILL
  server = await startNatsServer({ storeDir: join(storeDir, 'nats'), port });
  // A fresh process after the restart: what was accepted is still there.
  const after = await open(server.url);
  expect(await after.record('b')).toMatchObject({ id: 'b', status: 'queued' });
  const first = await after.next(5_000);
  const second = await after.next(5_000);
  const got = new Map([first!, second!].map((d) => [d.job.id, d]));
  expect([...got.keys()].sort()).toEqual(['a', 'b']);
  expect(new TextDecoder().decode(got.get('a')!.job.request.body)).toBe('body of a');
  expect(Buffer.from(got.get('b')!.job.request.body).equals(Buffer.from(big))).toBe(true);
  expect(got.get('a')!.attempt).toBe(1);

  // 'a' is left unfinished (its runner "died"): after the ack wait it comes back as attempt 2.
  await got.get('b')!.done();
  const again = await after.next(10_000);
  expect(again).toMatchObject({ job: { id: 'a' }, attempt: 2 });
  // A retry with a delay comes back as attempt 3, not before the delay.
  const retried = Date.now();
  await again!.retry(500);
  const third = await after.next(10_000);
  expect(third).toMatchObject({ job: { id: 'a' }, attempt: 3 });
  expect(Date.now() - retried).toBeGreaterThanOrEqual(400);

  // The first final write wins; a later (duplicate) one is refused by the compare-and-set.
  const result = { status: 200, headers: [] as [string, string][], bodyBase64: Buffer.from(big).toString('base64') };
  await after.update('a', (r) => ({ ...r!, status: 'succeeded', attempts: 3, result, finishedAt: 1 }));
  const refused = await after.update('a', (r) => (r && r.status === 'succeeded' ? undefined : { ...r!, status: 'failed' }));
  expect(refused).toMatchObject({ status: 'succeeded' });
  const read = await after.record('a');
  expect(read).toMatchObject({ status: 'succeeded', attempts: 3 });
  // A result body over one message travels through the object store and comes back whole.
  expect(read!.result!.bodyBase64).toBe(result.bodyBase64);
  await third!.done();
  expect(await after.next(1_000)).toBeUndefined();

  // Concurrent writers: every change applies once, none is lost.
  await after.update('c', () => newRecord(job('c')));
  await Promise.all(Array.from({ length: 10 }, () => after.update('c', (r) => ({ ...r!, attempts: r!.attempts + 1 }))));
  expect((await after.record('c'))!.attempts).toBe(10);
});
