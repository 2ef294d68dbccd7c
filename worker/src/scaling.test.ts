// Pool sizing over time, driven by a manual clock (no sleeping, no wall-clock assertions): the
// refill runs off the request path, bursts are remembered for the demand window, idle pools scale
// to zero, and under a small budget the least recently used pools give up their idle VMs.
import { cpSync, mkdtempSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { eventually } from './test-support/eventually.js';
import { VmSnapshotError, type VmSnapshot } from '@fn/vmm';
import { WorkerAtCapacityError } from './errors.js';
import { describeWithSnapshots } from './test-support/backend.js';
import { snapshotOf, text } from './test-support/functions.js';
import { ManualClock } from './test-support/manual-clock.js';
import { Worker, type WorkerOptions } from './worker.js';

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});
const start = async (options: WorkerOptions) => (worker = await Worker.start(options));
const pool = (w: Worker, key: string) => w.metrics().pools.find((p) => p.key === key);
const vmsOnHosts = async (w: Worker) => (await w.hostStats()).reduce((sum, s) => sum + s.vms, 0);

describeWithSnapshots('pool scaling', (backend) => {
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend);
  });

  it('refills to the demand-based target in the background, not on the request path', async () => {
    const clock = new ManualClock();
    const w = await start({ clock, spare: 1, maxWarm: 4 });
    const first = await w.invoke({ key: 'f', snapshot });
    expect(first.cold).toBe(true);
    // The response came back with only its own VM: the refill waits for the pool's timer.
    expect(pool(w, 'f')).toMatchObject({ idle: 1, busy: 0, starting: 0, target: 2 });
    clock.advance(0);
    // No further request: the pool grows to its target by itself.
    await eventually(() => expect(pool(w, 'f')).toMatchObject({ idle: 2, starting: 0 }));
    expect(await vmsOnHosts(w)).toBe(2);
    // Both VMs are warm for the next burst of two.
    const burst = await Promise.all([w.invoke({ key: 'f', snapshot }), w.invoke({ key: 'f', snapshot })]);
    expect(burst.map((r) => r.cold)).toEqual([false, false]);
    expect(burst.map(text)).toEqual(['1', '1']);
  });

  it('keeps a burst-sized pool for the demand window, then shrinks to one VM plus the spare, then to zero when idle', async () => {
    const clock = new ManualClock();
    const w = await start({ clock, spare: 1, maxWarm: 8, windowMs: 10_000, idleMs: 60_000 });
    await Promise.all(Array.from({ length: 3 }, () => w.invoke({ key: 'f', snapshot })));
    clock.advance(0);
    await eventually(() => expect(pool(w, 'f')).toMatchObject({ idle: 4, starting: 0, target: 4 }));
    clock.advance(5_000);
    expect(pool(w, 'f')).toMatchObject({ idle: 4, target: 4 }); // still within the window
    clock.advance(7_000);
    expect(pool(w, 'f')).toMatchObject({ idle: 2, target: 2 }); // the burst is forgotten
    await eventually(async () => expect(await vmsOnHosts(w)).toBe(2));
    clock.advance(60_000);
    expect(pool(w, 'f')).toBeUndefined(); // scaled to zero, the pool itself forgotten
    await eventually(async () => expect(await vmsOnHosts(w)).toBe(0));
    expect(w.metrics().budget.vms).toBe(0);
    // And it comes back cold.
    expect((await w.invoke({ key: 'f', snapshot })).cold).toBe(true);
  });

  it('scales to zero after idleMs without invocations, not before', async () => {
    const clock = new ManualClock();
    const w = await start({ clock, spare: 0, idleMs: 30_000 });
    await w.invoke({ key: 'f', snapshot });
    clock.advance(29_000);
    expect(pool(w, 'f')).toMatchObject({ idle: 1 });
    expect((await w.invoke({ key: 'f', snapshot })).cold).toBe(false); // an invocation restarts the idle clock
    clock.advance(29_000);
    expect(pool(w, 'f')).toMatchObject({ idle: 1 });
    clock.advance(2_000);
    expect(pool(w, 'f')).toBeUndefined();
    await eventually(async () => expect(await vmsOnHosts(w)).toBe(0));
  });

  it('evicts idle VMs of the least recently used pool when the budget is full', async () => {
    const clock = new ManualClock();
    // Room for exactly two VMs of this size.
    const w = await start({ clock, spare: 0, maxMemoryMiB: 2 * snapshot.memoryMiB });
    await w.invoke({ key: 'a', snapshot });
    await w.invoke({ key: 'b', snapshot });
    await w.invoke({ key: 'a', snapshot }); // a is now more recently used than b
    const c = await w.invoke({ key: 'c', snapshot });
    expect(c.cold).toBe(true);
    expect(pool(w, 'a')).toMatchObject({ idle: 1 });
    expect(pool(w, 'b')).toMatchObject({ idle: 0 });
    expect(pool(w, 'c')).toMatchObject({ idle: 1 });
    expect(w.metrics().evictions).toBe(1);
    expect(w.metrics().budget).toMatchObject({ vms: 2, memoryMiB: 2 * snapshot.memoryMiB });
    await eventually(async () => expect(await vmsOnHosts(w)).toBe(2));
    expect((await w.invoke({ key: 'a', snapshot })).cold).toBe(false);
    expect((await w.invoke({ key: 'b', snapshot })).cold).toBe(true);
  });

  it('refuses with WorkerAtCapacityError when every VM in the budget is busy', async () => {
    const w = await start({ clock: new ManualClock(), spare: 0, maxVms: 1 });
    const busy = w.invoke({ key: 'a', snapshot, request: { url: '/sleep?ms=500' } });
    await eventually(() => expect(pool(w, 'a')).toMatchObject({ busy: 1 }));
    await expect(w.invoke({ key: 'b', snapshot })).rejects.toBeInstanceOf(WorkerAtCapacityError);
    expect(text(await busy)).toBe('1');
    // With a's VM idle again it can be evicted for b.
    expect((await w.invoke({ key: 'b', snapshot })).cold).toBe(true);
  });

  it('backs off refilling a snapshot that cannot be restored instead of looping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fn-worker-broken-'));
    cpSync(snapshot.dir, dir, { recursive: true });
    const memory = join(dir, 'memory.img');
    truncateSync(memory, statSync(memory).size - 4096);
    const broken = { ...snapshot, dir };
    const clock = new ManualClock();
    const w = await start({ clock, spare: 0, tickMs: 1000 });
    await expect(w.invoke({ key: 'broken', snapshot: broken })).rejects.toBeInstanceOf(VmSnapshotError);
    clock.advance(0); // the pool wants one VM: the refill tries once and fails
    await eventually(() => expect(pool(w, 'broken')).toMatchObject({ refillFailures: 1, starting: 0 }));
    clock.advance(500);
    await new Promise((r) => setTimeout(r, 200));
    expect(pool(w, 'broken')).toMatchObject({ refillFailures: 1, starting: 0 }); // still backing off
    clock.advance(600);
    await eventually(() => expect(pool(w, 'broken')).toMatchObject({ refillFailures: 2, starting: 0 }));
    expect(w.metrics().budget.vms).toBe(0);
  });
});
