// On KVM a deploy's tenant code (the function's module init) runs in the deploy host, a VMM host
// process locked down like the invocation hosts — seccomp, no_new_privs, cwd /, Landlock — except
// that it may write beneath <data>/deploy-scratch and nowhere else. The real chain: a Deployer
// with a DeployHost over a data directory, a forked host-main.js started through fn-landlock-exec,
// real KVM VMs, the stored snapshot restored and invoked. KVM only: on ptrace the deploy VMM is a
// confined process of its own (ptrace-vmm --snapshot-dir, vmm/src/ptrace-scenarios.test.ts).
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroVM } from '@fn/vmm';
import { SnapshotStore } from '@fn/snapshots';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshotBackend } from '../test-support/backend.js';
import { Deployer } from '../deployer.js';
import { DeployHost } from './deploy-host.js';
import { deployScratchRoot } from './host-sandbox.js';

const COUNTER = `let n = 0; export default { fetch(req, env) { n += 1; return new Response(n + ' ' + env.WHO); } };`;
const field = (pid: number, name: string) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const done of cleanup.splice(0)) await done();
});

function deployerOver(dataDir: string): { deployer: Deployer; deployHost: DeployHost } {
  const previous = process.env.FN_VMM_TEST_HOOKS;
  process.env.FN_VMM_TEST_HOOKS = '1'; // inherited by the deploy host's fork: the probe op
  cleanup.push(() => {
    if (previous === undefined) delete process.env.FN_VMM_TEST_HOOKS;
    else process.env.FN_VMM_TEST_HOOKS = previous;
  });
  const deployHost = new DeployHost(dataDir);
  cleanup.push(() => deployHost.close());
  const deployer = new Deployer({ store: new SnapshotStore(join(dataDir, 'snapshots')), workDir: join(dataDir, 'work'), platform: 'kvm', deployHost });
  return { deployer, deployHost };
}

const kvmHere = snapshotBackend() === 'kvm';
(kvmHere ? describe : describe.skip)(`deploy host [kvm]${kvmHere ? '' : ' (skipped here: no /dev/kvm; run inside the nested machine)'}`, () => {
  it('[kvm] a deploy runs in a locked-down process that writes only beneath its scratch directory, and its snapshot invokes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fn-deploy-host-data-'));
    writeFileSync(join(dataDir, 'fn.db'), 'registry');
    writeFileSync(join(dataDir, 'secrets.key'), 'sealing key');
    const { deployer, deployHost } = deployerOver(dataDir);

    const r = await deployer.deploy({ tenant: 'acme', name: 'counter', bundle: COUNTER, memoryMiB: 32, timeoutMs: 5000, env: { WHO: 'acme' } });
    const host = await deployHost.current();
    expect(host.pid).not.toBe(process.pid);
    expect([field(host.pid, 'Seccomp'), field(host.pid, 'NoNewPrivs')]).toEqual(['2', '1']);
    expect(readlinkSync(`/proc/${host.pid}/cwd`)).toBe('/');
    const lockdown = (await host.stats()).lockdown;
    expect(lockdown?.seccomp).toBe(true);
    expect(lockdown?.landlockAbi, 'this kernel has no Landlock').toBeGreaterThanOrEqual(1);

    const scratch = deployScratchRoot(dataDir);
    const outcomes = {
      readDb: (await host.probe('open-read', join(dataDir, 'fn.db'))).outcome,
      readKey: (await host.probe('open-read', join(dataDir, 'secrets.key'))).outcome,
      writeDb: (await host.probe('open-write', join(dataDir, 'fn.db'))).outcome,
      plant: (await host.probe('open-write', join(dataDir, 'planted'))).outcome,
      plantInWork: (await host.probe('open-write', join(dataDir, 'work', 'planted'))).outcome,
      plantInTmp: (await host.probe('open-write', join(tmpdir(), `fn-deploy-host-planted-${process.pid}`))).outcome,
      writeScratch: (await host.probe('open-write', join(scratch, 'probe'))).outcome,
      execve: (await host.probe('execve')).outcome,
      fork: (await host.probe('fork')).outcome,
      socket: (await host.probe('socket')).outcome,
      ptraceParent: (await host.probe('ptrace-parent')).outcome,
      killParent: (await host.probe('kill-parent')).outcome,
    };
    expect(outcomes).toEqual({
      readDb: 'EACCES',
      readKey: 'EACCES',
      writeDb: 'EACCES',
      plant: 'EACCES',
      plantInWork: 'EACCES',
      plantInTmp: 'EACCES',
      writeScratch: 'done',
      execve: 'EPERM',
      fork: 'EPERM',
      socket: 'EPERM',
      ptraceParent: 'EPERM',
      killParent: 'EPERM',
    });
    expect(readFileSync(join(dataDir, 'fn.db'), 'utf8')).toBe('registry');
    expect(existsSync(join(dataDir, 'planted'))).toBe(false);
    // The build's scratch directory is gone once the worker stored the snapshot.
    expect(readdirSync(scratch).filter((e) => e.startsWith('build-'))).toEqual([]);

    // What it built is in the store and runs.
    const vm = await MicroVM.restore(await deployer.snapshotFor(r.snapshotDigest));
    cleanup.push(() => vm.close());
    expect((await vm.invoke({})).response.body.toString()).toBe('1 acme');
    expect((await vm.invoke({})).response.body.toString()).toBe('1 acme');
  });

  it('[kvm] a load error in the deploy host comes back typed and the next deploy works', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fn-deploy-host-data-'));
    const { deployer } = deployerOver(dataDir);
    const err = await deployer
      .deploy({ tenant: 'acme', name: 'broken', bundle: 'export default {', memoryMiB: 32, timeoutMs: 5000, env: {} })
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('GuestLoadError');
    const r = await deployer.deploy({ tenant: 'acme', name: 'ok', bundle: COUNTER, memoryMiB: 32, timeoutMs: 5000, env: { WHO: 'ok' } });
    const vm = await MicroVM.restore(await deployer.snapshotFor(r.snapshotDigest));
    cleanup.push(() => vm.close());
    expect((await vm.invoke({})).response.body.toString()).toBe('1 ok');
  });
});
