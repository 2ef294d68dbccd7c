// A VMM host process killed mid-invocation costs only its own invocations: they end with
// VmmHostCrashedError, the other host's invocations finish, the host is replaced and the
// function's pool is rebuilt on live hosts.
import { afterEach, beforeAll, expect, it } from 'vitest';
import { eventually } from './test-support/eventually.js';
import type { VmSnapshot } from '@fn/vmm';
import { VmmHostCrashedError } from './errors.js';
import { describeWithSnapshots } from './test-support/backend.js';
import { snapshotOf, text } from './test-support/functions.js';
import { ManualClock } from './test-support/manual-clock.js';
import { Worker } from './worker.js';

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

describeWithSnapshots('VMM host crash', (backend) => {
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend);
  });

  it('fails only the invocations on the killed host, replaces it, and rebuilds the pool', async () => {
    const clock = new ManualClock();
    const w = (worker = await Worker.start({ hosts: 2, spare: 1, clock }));
    const busyOn = () => w.metrics().hosts.filter((h) => h.inFlight > 0);
    const busyIn = (key: string) => w.metrics().pools.find((p) => p.key === key)?.busy;

    // One invocation that never ends on its own (it spins until its host dies)...
    const doomed = w.invoke({ key: 'spinner', snapshot, request: { url: '/loop' }, timeoutMs: 60_000 }).catch((e: unknown) => e);
    // Restored and invoking (a host killed during the restore would only cause a retry elsewhere).
    await eventually(() => expect([busyIn('spinner'), busyOn().length]).toEqual([1, 1]));
    const victim = busyOn()[0]!;
    // ...and one on the other host (least-loaded placement), which must not notice the crash.
    const survivor = w.invoke({ key: 'sleeper', snapshot, request: { url: '/sleep?ms=1500' }, timeoutMs: 60_000 });
    await eventually(() => expect([busyIn('sleeper'), busyOn().length]).toEqual([1, 2]));

    process.kill(victim.pid, 'SIGKILL');

    const err = await doomed;
    expect(err).toBeInstanceOf(VmmHostCrashedError);
    expect((err as VmmHostCrashedError).pid).toBe(victim.pid);
    expect((err as Error).message).toMatch(/killed by SIGKILL.*retry the invocation/);
    const ok = await survivor;
    expect(text(ok)).toBe('1');
    expect(ok.hostPid).not.toBe(victim.pid);

    // A replacement host starts; the dead one is gone from the list.
    await eventually(() => expect(w.metrics().hosts.filter((h) => h.alive)).toHaveLength(2));
    expect(w.metrics().hosts.map((h) => h.pid)).not.toContain(victim.pid);
    expect(w.metrics().hostCrashes).toBe(1);

    // The spinner's pool lost its VM with the host; the next invocation gets a new one on a live host.
    expect(w.metrics().pools.find((p) => p.key === 'spinner')).toMatchObject({ idle: 0, busy: 0 });
    const next = await w.invoke({ key: 'spinner', snapshot, request: { url: '/' }, timeoutMs: 60_000 });
    expect(text(next)).toBe('1');
    expect(next.hostPid).not.toBe(victim.pid);
    // And the pool refills to its target in the background, on live hosts only.
    clock.advance(0);
    await eventually(() => expect(w.metrics().pools.find((p) => p.key === 'spinner')).toMatchObject({ idle: 2, starting: 0 }));
    expect(w.metrics().invocations.failed).toBe(1);
  });

  it('drops idle VMs that lived on a crashed host and rebuilds them elsewhere', async () => {
    const clock = new ManualClock();
    const w = (worker = await Worker.start({ hosts: 2, spare: 0, clock }));
    await Promise.all(Array.from({ length: 4 }, () => w.invoke({ key: 'f', snapshot, request: { url: '/sleep?ms=100' } })));
    expect(w.metrics().hosts.map((h) => h.vms)).toEqual([2, 2]);
    const victim = w.metrics().hosts[0]!;
    process.kill(victim.pid, 'SIGKILL');
    await eventually(() => expect(w.metrics().pools[0]).toMatchObject({ idle: 2 }));
    expect(w.metrics().budget.vms).toBe(2);
    // The burst is still within the window: the refill restores the lost two on live hosts.
    clock.advance(0);
    await eventually(() => expect(w.metrics().pools[0]).toMatchObject({ idle: 4, starting: 0 }));
    await eventually(() => expect(w.metrics().hosts.filter((h) => h.alive)).toHaveLength(2));
    const results = await Promise.all(Array.from({ length: 4 }, () => w.invoke({ key: 'f', snapshot })));
    expect(results.map((r) => [r.cold, text(r)])).toEqual(Array.from({ length: 4 }, () => [false, '1']));
    expect(results.map((r) => r.hostPid)).not.toContain(victim.pid);
  });
});
