// One VMM host process, through the worker's client and through its raw IPC channel: real VMs on
// the best snapshot backend here; malformed messages in both directions; a host killed mid-call.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { eventually } from '../test-support/eventually.js';
import { GuestTimeoutError, toVmRequest, type VmSnapshot } from '@fn/vmm';
import { VmLostError, VmmHostCrashedError, VmmHostProtocolError, VmmHostTimeoutError } from '../errors.js';
import { describeWithSnapshots } from '../test-support/backend.js';
import { snapshotOf } from '../test-support/functions.js';
import { VmmHost } from './host-client.js';
import { defaultHostEntry } from './host-entry.js';

const started: VmmHost[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(started.splice(0).map((h) => h.shutdown()));
});
const startHost = async (options = {}) => {
  const host = await VmmHost.start(options);
  started.push(host);
  return host;
};
/** Running (a zombie waiting for init to reap it counts as gone). */
const processAlive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** The ptrace VMM's traced guest (its child) is on a CPU. */
const guestRunning = (vmmPid: number) => {
  try {
    const children = readFileSync(`/proc/${vmmPid}/task/${vmmPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.some((pid) => /^\d+ \(.*\) R/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')));
  } catch {
    return false;
  }
};

describeWithSnapshots('VMM host', (backend) => {
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend);
  });

  it('restores, invokes (resetting after each), closes and reports its VMs', async () => {
    const host = await startHost();
    const { vmId, platform } = await host.restore(snapshot, 5000);
    expect(platform).toBe(backend);
    expect(host.holds(vmId)).toBe(true);
    const bodies = [];
    for (let i = 0; i < 3; i++) {
      const r = await host.invoke(vmId, toVmRequest({ method: 'POST', url: '/', body: new Uint8Array([1, 2, 3]) }), 5000);
      expect(Buffer.isBuffer(r.response.body)).toBe(true);
      bodies.push(r.response.body.toString());
    }
    expect(bodies).toEqual(['1', '1', '1']);
    const stats = await host.stats();
    expect(stats).toMatchObject({ pid: host.pid, vms: 1 });
    expect(stats.rssKiB).toBeGreaterThan(0);
    expect(await host.close(vmId)).toBe(true);
    expect(host.holds(vmId)).toBe(false);
    expect((await host.stats()).vms).toBe(0);
  });

  it('keeps the error class of a fatal VM error and forgets that VM', async () => {
    const host = await startHost();
    const { vmId } = await host.restore(snapshot, 500);
    const err = await host.invoke(vmId, toVmRequest({ url: '/loop' }), 500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuestTimeoutError);
    expect((err as GuestTimeoutError).timeoutMs).toBe(500);
    expect(host.holds(vmId)).toBe(false);
    expect((await host.stats()).vms).toBe(0);
    // The same vmId is not usable again: the host says the invocation never started.
    expect(await host.invoke(vmId, toVmRequest({}), 500).catch((e: unknown) => e)).toBeInstanceOf(VmLostError);
  });

  it('rejects calls in flight with VmmHostCrashedError when the host process is killed, and kills its VM processes', async () => {
    const host = await startHost();
    const { vmId, pid: vmPid } = await host.restore(snapshot, 30_000);
    const crashed = vi.fn();
    host.onCrash(crashed);
    const inFlight = host.invoke(vmId, toVmRequest({ url: '/loop' }), 30_000).catch((e: unknown) => e);
    await eventually(() => expect(host.inFlight).toBe(1));
    // With a VM process (the ptrace VMM), wait until its guest is really spinning: a VMM still
    // idle on its pipe would exit on its own when the host dies, proving nothing.
    if (vmPid !== host.pid) await eventually(() => expect(guestRunning(vmPid)).toBe(true));
    process.kill(host.pid, 'SIGKILL');
    const err = await inFlight;
    expect(err).toBeInstanceOf(VmmHostCrashedError);
    expect((err as Error).message).toMatch(/killed by SIGKILL/);
    expect(host.alive).toBe(false);
    expect(crashed).toHaveBeenCalledOnce();
    expect(await host.stats().catch((e: unknown) => e)).toBeInstanceOf(VmmHostCrashedError);
    // A guest spinning in a loop would otherwise outlive its host.
    if (vmPid !== host.pid) await eventually(() => expect(processAlive(vmPid)).toBe(false));
  });

  it('refuses garbage sent through its IPC channel and keeps serving', async () => {
    const entry = defaultHostEntry();
    const child = fork(entry.script, [], { execArgv: entry.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    const inbox: Array<Record<string, unknown>> = [];
    // vm-ready comes on its own after an invocation's reset, not as a reply: kept apart.
    const ready: unknown[] = [];
    child.on('message', (m: Record<string, unknown>) => (m.type === 'vm-ready' ? ready.push(m.vmId) : inbox.push(m)));
    await eventually(() => expect(inbox[0]).toMatchObject({ type: 'ready' }));
    const call = async (message: unknown) => {
      const before = inbox.length;
      child.send(message as object);
      await eventually(() => expect(inbox.length).toBe(before + 1));
      return inbox[before]!;
    };
    const refusedWith = (reply: Record<string, unknown>) => reply.error as { name: string; message: string };

    // A VM that must survive the garbage.
    const restored = await call({ id: 1, op: 'restore', snapshot, timeoutMs: 5000 });
    expect(restored).toMatchObject({ type: 'reply', id: 1, ok: true });
    const vmId = (restored.result as { vmId: string }).vmId;

    const garbage: unknown[] = [
      'restore',
      42,
      null,
      [1, 2, 3],
      {},
      { op: 'stats' }, // no id
      { id: -1, op: 'stats' },
      { id: 1.5, op: 'stats' },
      { id: 2, op: 'format-disk' },
      { id: 3, op: 'stats', extra: true },
      { id: 4, op: 'restore', snapshot: { ...snapshot, dir: 'relative/dir' }, timeoutMs: 5000 },
      { id: 5, op: 'restore', snapshot: { ...snapshot, dir: '/tmp/x\0y' }, timeoutMs: 5000 },
      { id: 6, op: 'restore', snapshot: { ...snapshot, memoryMiB: 1 << 20 }, timeoutMs: 5000 },
      { id: 7, op: 'restore', snapshot, timeoutMs: 0 },
      { id: 8, op: 'invoke', vmId: '../../etc/passwd', request: {} },
      { id: 9, op: 'invoke', vmId: '__proto__', request: {} },
      { id: 10, op: 'invoke', vmId, request: { body: 12345 } },
      { id: 11, op: 'invoke', vmId, request: { ...toVmRequest({ url: '/' }), evil: true } },
      { id: 12, op: 'invoke', vmId, request: { ...toVmRequest({}), body: new Uint8Array(7 * 1024 * 1024) } },
      { id: 15, op: 'invoke', vmId, request: { ...toVmRequest({}), headers: [['x-big', 'a'.repeat(17 * 1024)]] } },
      { id: 13, op: 'close', vmId: { toString: 'vm-1' } },
      JSON.parse('{"id": 14, "op": "stats", "__proto__": {"polluted": true}}'),
    ];
    for (const message of garbage) {
      const reply = await call(message);
      expect(['reply', 'refused']).toContain(reply.type);
      expect(reply.ok).not.toBe(true);
      expect(refusedWith(reply).name).toBe('VmmHostProtocolError');
      expect(refusedWith(reply).message).toMatch(/refused a malformed request/);
    }
    // Still alive, nothing polluted, the VM untouched and working.
    const stats = await call({ id: 20, op: 'stats' });
    expect(stats).toMatchObject({ type: 'reply', id: 20, ok: true, result: { vms: 1 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const invoked = await call({ id: 21, op: 'invoke', vmId, request: toVmRequest({ url: '/' }) });
    expect(invoked).toMatchObject({ type: 'reply', id: 21, ok: true });
    expect(Buffer.from((invoked.result as { response: { body: Uint8Array } }).response.body).toString()).toBe('1');
    await eventually(() => expect(ready).toEqual([vmId]));
    // A well-formed call about a VM that does not exist is an ordinary error, not a refusal.
    expect(refusedWith(await call({ id: 22, op: 'invoke', vmId: 'vm-999', request: toVmRequest({}) })).name).toBe('VmLostError');
    expect(child.exitCode).toBeNull();
  });
});

// The worker's side: a host whose replies break the protocol is killed, never believed.
const fakeHost = { script: fileURLToPath(new URL('../test-support/fake-host.mjs', import.meta.url)), execArgv: [] };

it('kills a host that sends a forged result, failing the call with VmmHostProtocolError', async () => {
  const host = await startHost({ entry: fakeHost });
  const snapshot: VmSnapshot = { platform: 'ptrace', dir: '/nonexistent', memoryMiB: 32, pages: 0, diffPages: 0, ms: 0 };
  const err = await host.restore(snapshot, 1000).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VmmHostProtocolError);
  expect((err as Error).message).toMatch(/invalid restore result/);
  expect(host.alive).toBe(false);
  await eventually(() => expect(processAlive(host.pid)).toBe(false));
});

it('kills a host that answers a request nobody sent', async () => {
  const host = await startHost({ entry: fakeHost });
  const err = await host.stats().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VmmHostProtocolError);
  expect((err as Error).message).toMatch(/not waiting for one/);
  expect(host.alive).toBe(false);
});

it('kills a host that does not answer in time', async () => {
  const host = await startHost({ entry: fakeHost, graceMs: 0 });
  const err = await host.invoke('vm-1', toVmRequest({}), 200).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VmmHostTimeoutError);
  expect(host.alive).toBe(false);
  await eventually(() => expect(processAlive(host.pid)).toBe(false));
});

afterAll(async () => {
  await Promise.all(started.splice(0).map((h) => h.shutdown()));
});
