// The worker end to end on real VMs (the best snapshot backend here): warm and cold, isolation,
// concurrency, fatal errors dropping their VM, snapshots from the store, and input checks.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { GuestOutOfMemoryError, GuestTimeoutError, InvalidInputError, type VmSnapshot } from '@fn/vmm';
import { SnapshotStore } from '@fn/snapshots';
import { Deployer } from './deployer.js';
import { PoolConfigMismatchError } from './errors.js';
import { describeWithSnapshots } from './test-support/backend.js';
import { snapshotOf, text, TRICKY_COUNTER } from './test-support/functions.js';
import { ManualClock } from './test-support/manual-clock.js';
import { Worker, type WorkerOptions } from './worker.js';

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});
const start = async (options: WorkerOptions) => (worker = await Worker.start(options));
const vmsOnHosts = async (w: Worker) => (await w.hostStats()).reduce((sum, s) => sum + s.vms, 0);

describeWithSnapshots('Worker', (backend) => {
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend);
  });

  it('serves the first invocation cold and the next one warm, on the same VM', async () => {
    const w = await start({ spare: 0 });
    const first = await w.invoke({ snapshot });
    const second = await w.invoke({ snapshot });
    expect([first.cold, second.cold]).toEqual([true, false]);
    expect(second.vmId).toBe(first.vmId);
    expect([text(first), text(second)]).toEqual(['1', '1']);
    expect(first.durations.restoreMs).toBeGreaterThan(0);
    expect(second.durations.restoreMs).toBeUndefined();
    const m = w.metrics();
    expect(m.invocations).toEqual({ cold: 1, warm: 1, failed: 0 });
    expect([m.latencyMs.cold.count, m.latencyMs.warm.count]).toEqual([1, 1]);
  });

  it('isolates every invocation on pooled VMs: the counter answers 1 every time', async () => {
    const w = await start({});
    const results = [];
    for (let i = 0; i < 30; i++) results.push(await w.invoke({ snapshot, request: { url: `/?i=${i}` } }));
    for (let wave = 0; wave < 5; wave++) results.push(...(await Promise.all(Array.from({ length: 4 }, () => w.invoke({ snapshot })))));
    expect(results.map(text)).toEqual(results.map(() => '1'));
    // They really ran on reused VMs.
    const warm = results.filter((r) => !r.cold).length;
    expect(warm).toBeGreaterThan(30);
    expect(new Set(results.map((r) => r.vmId)).size).toBeLessThan(10);
  });

  it('runs N parallel invocations on N VMs, spread over the hosts, all succeeding', async () => {
    const w = await start({ hosts: 2, maxWarm: 8, spare: 0 });
    const results = await Promise.all(Array.from({ length: 6 }, () => w.invoke({ snapshot, request: { url: '/sleep?ms=200' } })));
    expect(results.map(text)).toEqual(['1', '1', '1', '1', '1', '1']);
    expect(results.every((r) => r.cold)).toBe(true);
    expect(new Set(results.map((r) => `${r.hostPid}/${r.vmId}`)).size).toBe(6);
    expect(new Set(results.map((r) => r.hostPid)).size).toBe(2);
    expect(w.metrics().hosts.map((h) => h.vms)).toEqual([3, 3]);
  });

  for (const [path, errorClass] of [
    ['/loop', GuestTimeoutError],
    ['/oom', GuestOutOfMemoryError],
  ] as const) {
    it(`drops a VM whose invocation failed fatally (${path} → ${errorClass.name}); the next invocation works`, async () => {
      // A manual clock keeps the pool from refilling on its own: what is left is what was kept.
      const w = await start({ spare: 0, clock: new ManualClock() });
      const first = await w.invoke({ snapshot, timeoutMs: 2000 });
      const err = await w.invoke({ snapshot, request: { url: path }, timeoutMs: 2000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errorClass);
      expect(w.metrics().pools[0]).toMatchObject({ idle: 0, busy: 0 });
      expect(await vmsOnHosts(w)).toBe(0);
      const next = await w.invoke({ snapshot, timeoutMs: 2000 });
      expect(text(next)).toBe('1');
      expect(next.cold).toBe(true);
      expect(next.vmId).not.toBe(first.vmId);
      expect(w.metrics().invocations).toEqual({ cold: 2, warm: 0, failed: 1 });
    });
  }

  it('keeps a VM after a non-fatal error (a request the VM refuses)', async () => {
    const w = await start({ spare: 0, clock: new ManualClock() });
    const first = await w.invoke({ snapshot });
    const err = await w.invoke({ snapshot, request: { headers: { 'bad header': 'x' } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    const next = await w.invoke({ snapshot });
    expect([next.cold, next.vmId]).toEqual([false, first.vmId]);
  });

  it('runs a function version deployed to the store, keyed by its snapshot digest', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'fn-worker-store-'));
    const deployer = new Deployer({ store: new SnapshotStore(join(scratch, 'store')), workDir: join(scratch, 'work'), platform: backend });
    const { snapshotDigest } = await deployer.deploy({ tenant: 't', name: 'counter', bundle: TRICKY_COUNTER, memoryMiB: 32, timeoutMs: 5000, env: {} });
    const stored = await deployer.snapshotFor(snapshotDigest);
    const w = await start({});
    const a = await w.invoke({ key: snapshotDigest, snapshot: stored, timeoutMs: 5000 });
    const b = await w.invoke({ key: snapshotDigest, snapshot: stored, timeoutMs: 5000 });
    expect([text(a), text(b), a.cold, b.cold]).toEqual(['1', '1', true, false]);
    expect(w.metrics().pools.map((p) => p.key)).toEqual([snapshotDigest]);
  });

  it('refuses a key reused for a different function version, and malformed invocations', async () => {
    const w = await start({});
    await w.invoke({ key: 'fn-v1', snapshot, timeoutMs: 5000 });
    await expect(w.invoke({ key: 'fn-v1', snapshot, timeoutMs: 6000 })).rejects.toBeInstanceOf(PoolConfigMismatchError);
    await expect(w.invoke({ key: 'fn-v1', snapshot: { ...snapshot, dir: '/elsewhere' }, timeoutMs: 5000 })).rejects.toBeInstanceOf(PoolConfigMismatchError);
    await expect(w.invoke({ snapshot: { ...snapshot, dir: 'relative' } })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(w.invoke({ snapshot, timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
