// A VMM host process holding KVM VMs locks itself down before its first VM (host-main.ts,
// vmm/native/host_lockdown.h): /proc shows the seccomp filter and no_new_privs, and, asked through
// the test-only probe op (FN_VMM_TEST_HOOKS=1) to do what a taken-over host would try, it cannot
// exec, fork, open sockets, ptrace or signal its parent, or open a file for writing (EPERM each),
// and it still restores and runs VMs. Its memory limit (RLIMIT_DATA) ends a restore past it with a
// typed error, and the host serves again once memory is free. The real chain: a forked host-main.js
// over its IPC channel, real KVM VMs. KVM only (the ptrace VMM's lockdown: vmm/src/ptrace-scenarios.test.ts).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmSnapshot } from '@fn/vmm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { snapshotBackend } from '../test-support/backend.js';
import { snapshotOf, TRICKY_COUNTER } from '../test-support/functions.js';
import { VmmHost } from './host-client.js';
import { kvmHostSandbox } from './host-sandbox.js';

let hosts: VmmHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.map((h) => h.shutdown()));
  hosts = [];
});

async function lockedHost(memoryMiB?: number, dataDir?: string): Promise<VmmHost> {
  const previous = process.env.FN_VMM_TEST_HOOKS;
  process.env.FN_VMM_TEST_HOOKS = '1'; // inherited by the fork
  try {
    const host = await VmmHost.start({
      lockdown: memoryMiB === undefined ? {} : { memoryMiB },
      ...(dataDir ? { sandbox: kvmHostSandbox(dataDir) } : {}),
    });
    hosts.push(host);
    return host;
  } finally {
    if (previous === undefined) delete process.env.FN_VMM_TEST_HOOKS;
    else process.env.FN_VMM_TEST_HOOKS = previous;
  }
}

const field = (pid: number, name: string) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
const invoke = (host: VmmHost, vmId: string) =>
  host.invoke(vmId, { method: 'GET', url: 'https://fn.local/', headers: [], body: new Uint8Array(), env: {}, invocationId: 'lockdown-test' }, 10_000);

// KVM hosts only (the ptrace VMM locks itself down: vmm/src/ptrace-scenarios.test.ts). Without
// /dev/kvm the block is a skipped KVM block, which scripts/run-tests runs in the nested machine.
const kvmHere = snapshotBackend() === 'kvm';
(kvmHere ? describe : describe.skip)(`VMM host lockdown [kvm]${kvmHere ? '' : ' (skipped here: no /dev/kvm; run inside the nested machine)'}`, () => {
  const backend = 'kvm' as const;
  let snapshot: VmSnapshot;
  beforeAll(async () => {
    snapshot = await snapshotOf(backend, TRICKY_COUNTER, 64);
  });

  it('[kvm] runs under seccomp with no_new_privs, in /, and refuses what a taken-over host would try', async () => {
    const host = await lockedHost();
    expect([field(host.pid, 'Seccomp'), field(host.pid, 'NoNewPrivs')]).toEqual(['2', '1']);
    expect(readlinkSync(`/proc/${host.pid}/cwd`)).toBe('/');
    expect((await host.stats()).lockdown).toMatchObject({ seccomp: true });

    const dataDir = mkdtempSync(join(tmpdir(), 'fn-host-lockdown-data-'));
    writeFileSync(join(dataDir, 'fn.db'), 'registry');
    const outcomes = {
      execve: (await host.probe('execve')).outcome,
      fork: (await host.probe('fork')).outcome,
      socket: (await host.probe('socket')).outcome,
      ptraceParent: (await host.probe('ptrace-parent')).outcome,
      killParent: (await host.probe('kill-parent')).outcome,
      writeDb: (await host.probe('open-write', join(dataDir, 'fn.db'))).outcome,
      plant: (await host.probe('open-write', join(dataDir, 'planted'))).outcome,
    };
    expect(outcomes).toEqual({ execve: 'EPERM', fork: 'EPERM', socket: 'EPERM', ptraceParent: 'EPERM', killParent: 'EPERM', writeDb: 'EPERM', plant: 'EPERM' });
    expect(readFileSync(join(dataDir, 'fn.db'), 'utf8')).toBe('registry');

    // And it still does its job.
    const vm = await host.restore(snapshot, 10_000);
    const r = await invoke(host, vm.vmId);
    expect(r.response.status).toBe(200);
  });

  it('[kvm] a restore past the host memory limit fails with a typed error, and the host serves again once memory is free', async () => {
    // Room for one 64 MiB guest and some buffers, not two.
    const host = await lockedHost(100);
    const lim = (await host.stats()).lockdown!.dataLimitBytes;
    expect(lim).toBeGreaterThan(0);
    const first = await host.restore(snapshot, 10_000);
    const err = await host.restore(snapshot, 10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).not.toBe('VmmHostCrashedError');
    expect((err as Error).message).toMatch(/ENOMEM|Cannot allocate memory|out of memory/i);
    expect(host.alive).toBe(true);
    expect((await invoke(host, first.vmId)).response.status).toBe(200);
    await host.close(first.vmId);
    const again = await host.restore(snapshot, 10_000);
    expect((await invoke(host, again.vmId)).response.status).toBe(200);
  });

  it('[kvm] started under Landlock (fn-landlock-exec), it cannot read the data directory, only the snapshots laid out in it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fn-host-landlock-data-'));
    writeFileSync(join(dataDir, 'fn.db'), 'registry');
    writeFileSync(join(dataDir, 'secrets.key'), 'sealing key');
    mkdirSync(join(dataDir, 'work'));
    const laidOut = join(dataDir, 'work', 'snap');
    cpSync(snapshot.dir, laidOut, { recursive: true });
    const host = await lockedHost(undefined, dataDir);
    expect((await host.stats()).lockdown?.landlockAbi, 'this kernel has no Landlock').toBeGreaterThanOrEqual(1);
    expect((await host.probe('open-read', join(dataDir, 'fn.db'))).outcome).toBe('EACCES');
    expect((await host.probe('open-read', join(dataDir, 'secrets.key'))).outcome).toBe('EACCES');
    const vm = await host.restore({ ...snapshot, dir: laidOut }, 10_000);
    expect((await invoke(host, vm.vmId)).response.status).toBe(200);
  });
});
