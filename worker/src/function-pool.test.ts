// Which idle VM an invocation gets: one whose reset after its last invocation has finished, before
// one still resetting (the reset must never sit on a response's path), and a resetting one before
// a cold restore. Hosts are stand-ins here so that "still resetting" is exact, not a race.
import { expect, it } from 'vitest';
import type { VmSnapshot } from '@fn/vmm';
import { FunctionPool, type PoolSettings } from './function-pool.js';
import { ManualClock } from './test-support/manual-clock.js';
import type { HostPool } from './vmm-host/host-pool.js';
import type { VmmHost } from './vmm-host/host-client.js';

class StandInHost {
  readonly held = new Set<string>();
  readonly resetting = new Set<string>();
  holds = (vmId: string) => this.held.has(vmId);
  isReady = (vmId: string) => this.held.has(vmId) && !this.resetting.has(vmId);
  close = async (vmId: string) => this.held.delete(vmId);
}

const settings: PoolSettings = { maxWarm: 4, spare: 0, idleMs: 60_000, windowMs: 10_000, refillConcurrency: 1, tickMs: 1000 };
const snapshot: VmSnapshot = { platform: 'ptrace', dir: '/snap', memoryMiB: 32, pages: 0, diffPages: 0, ms: 0 };

function poolWithStandIns() {
  const host = new StandInHost();
  let restores = 0;
  const hosts = {
    restore: async () => {
      const vmId = `vm-${++restores}`;
      host.held.add(vmId);
      return { host: host as unknown as VmmHost, vm: { vmId, pid: 1, platform: 'ptrace' as const, restoreMs: 1 } };
    },
  } as unknown as HostPool;
  const pool = new FunctionPool('f', snapshot, 1000, settings, {
    hosts,
    clock: new ManualClock(),
    reserve: () => true,
    unreserve: () => {},
    onEmpty: () => {},
  });
  return { pool, host, restores: () => restores };
}

it('picks a VM whose reset is done over the one used last, which is still resetting', async () => {
  const { pool, host, restores } = poolWithStandIns();
  const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
  pool.release(a!.vm);
  pool.release(b!.vm); // b was used last: a LIFO pool would hand it out next…
  host.resetting.add(b!.vm.vmId); // …but its reset has not finished
  const next = await pool.acquire();
  expect(next).toMatchObject({ cold: false, vm: { vmId: a!.vm.vmId } });
  expect(restores()).toBe(2);
});

it('takes the most recently used ready VM when several are ready', async () => {
  const { pool } = poolWithStandIns();
  const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
  pool.release(a!.vm);
  pool.release(b!.vm);
  expect((await pool.acquire()).vm.vmId).toBe(b!.vm.vmId);
});

it('waits out a reset rather than restoring a VM cold, and drops VMs that are gone', async () => {
  const { pool, host, restores } = poolWithStandIns();
  const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
  pool.release(a!.vm);
  pool.release(b!.vm);
  host.resetting.add(a!.vm.vmId);
  host.held.delete(b!.vm.vmId); // lost (its reset failed)
  const next = await pool.acquire();
  expect(next).toMatchObject({ cold: false, vm: { vmId: a!.vm.vmId } });
  expect(restores()).toBe(2);
  expect(pool.metrics().idle).toBe(0);
});

it('starts the refill a cold start calls for only once that cold start is done, not beside it', async () => {
  const host = new StandInHost();
  const clock = new ManualClock();
  const waiting: (() => void)[] = [];
  let restores = 0;
  const hosts = {
    // Every restore waits until the test lets it finish: "in flight" is exact.
    restore: () =>
      new Promise((resolve) => {
        const vmId = `vm-${++restores}`;
        waiting.push(() => {
          host.held.add(vmId);
          resolve({ host, vm: { vmId, pid: 1, platform: 'ptrace', restoreMs: 1 } });
        });
      }),
  } as unknown as HostPool;
  const withSpare = { ...settings, spare: 1 };
  const pool = new FunctionPool('f', snapshot, 1000, withSpare, { hosts, clock, reserve: () => true, unreserve: () => {}, onEmpty: () => {} });
  const cold = pool.acquire();
  clock.advance(0); // the pool's maintenance runs while the cold restore is in flight…
  expect(restores).toBe(1); // …and adds no second restore to compete with it
  waiting.shift()!();
  const acquired = await cold;
  expect(acquired.cold).toBe(true);
  pool.release(acquired.vm);
  clock.advance(0);
  expect(restores).toBe(2); // the spare VM, once the cold start has been answered
});
