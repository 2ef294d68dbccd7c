// VMs held in the worker's own process (the ptrace stand-in's default on the platform): the same
// behaviour as through a VMM host process — a reset after every invocation, ready when it is done,
// a fatal error closes the VM — with no process and no IPC between.
import { afterEach, beforeAll, expect, it } from 'vitest';
import { GuestTimeoutError, toVmRequest, type VmSnapshot } from '@fn/vmm';
import { eventually } from '../test-support/eventually.js';
import { describeWithSnapshots } from '../test-support/backend.js';
import { snapshotOf } from '../test-support/functions.js';
import { LocalHost } from './local-host.js';

let host: LocalHost | undefined;
afterEach(async () => {
  await host?.shutdown();
  host = undefined;
});

describeWithSnapshots('LocalHost', (backend) => {
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend);
  });

  it('restores, invokes with a reset after each, is ready again once the reset is done', async () => {
    host = new LocalHost();
    const { vmId } = await host.restore(snapshot, 5000);
    expect(host.isReady(vmId)).toBe(true);
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await host.invoke(vmId, toVmRequest({ url: '/' }));
      bodies.push(Buffer.from(r.response.body).toString());
      expect(r.timings.host).toBeGreaterThanOrEqual(r.timings.vm!);
      await eventually(() => expect(host!.isReady(vmId)).toBe(true));
    }
    expect(bodies).toEqual(['1', '1', '1']);
    expect(host.pid).toBe(process.pid);
  });

  it('a timeout closes that VM and keeps its class', async () => {
    host = new LocalHost();
    const { vmId } = await host.restore(snapshot, 300);
    const err = await host.invoke(vmId, toVmRequest({ url: '/loop' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuestTimeoutError);
    expect(host.holds(vmId)).toBe(false);
    expect(host.vmCount).toBe(0);
  });
});
