// Several VMM hosts: new VMs go to the least-loaded live host, and a dead host is replaced.
import { afterEach, beforeAll, expect, it } from 'vitest';
import { eventually } from '../test-support/eventually.js';
import type { VmSnapshot } from '@fn/vmm';
import { describeWithSnapshots } from '../test-support/backend.js';
import { snapshotOf } from '../test-support/functions.js';
import { HostPool } from './host-pool.js';

let pool: HostPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describeWithSnapshots('HostPool', (backend) => {
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend);
  });

  it('places new VMs on the least-loaded host, spreading them evenly', async () => {
    pool = await HostPool.start({ size: 3 });
    // Sequential and concurrent placements alike: restores in flight count as load.
    const placed = [await pool.restore(snapshot, 5000), ...(await Promise.all(Array.from({ length: 5 }, () => pool!.restore(snapshot, 5000))))];
    expect(pool.list().map((h) => h.vms)).toEqual([2, 2, 2]);
    // Free a VM on the second host: it is now the lightest and gets the next VM.
    const onSecond = placed.find((p) => p.host === pool!.live[1])!;
    await onSecond.host.close(onSecond.vm.vmId);
    expect((await pool.restore(snapshot, 5000)).host).toBe(onSecond.host);
  });

  it('replaces a host that dies and keeps placing VMs on live hosts', async () => {
    pool = await HostPool.start({ size: 2 });
    const crashes: number[] = [];
    pool.onHostCrash((host) => crashes.push(host.pid));
    const victim = pool.live[0]!;
    const survivor = pool.live[1]!;
    process.kill(victim.pid, 'SIGKILL');
    await eventually(() => expect(crashes).toEqual([victim.pid]));
    await eventually(() => expect(pool!.live.length).toBe(2));
    const pids = pool.live.map((h) => h.pid);
    expect(pids).toContain(survivor.pid);
    expect(pids).not.toContain(victim.pid);
    expect(pool.started).toBe(3);
    const placed = await Promise.all([pool.restore(snapshot, 5000), pool.restore(snapshot, 5000)]);
    expect(new Set(placed.map((p) => p.host.pid))).toEqual(new Set(pids));
  });
});
