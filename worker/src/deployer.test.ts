// Deploy builds a function snapshot over a shared base, on a real VMM (ptrace here, KVM where
// /dev/kvm exists), and the stored snapshot restores after a restart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { GuestLoadError, MicroVM } from '@fn/vmm';
import { SnapshotStore } from '@fn/snapshots';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { baseRef, Deployer } from './deployer.js';
import { runtimeIdentity } from './runtime-identity.js';

const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});
const temp = (name: string) => mkdtempSync(join(tmpdir(), `fn-deployer-${name}-`));
const COUNTER = `let n = 0; export default { fetch(req, env) { n += 1; return new Response(n + ' ' + env.WHO); } };`;

describeEachBackend(
  'Deployer',
  (backend) => {
    const platform = backend as 'kvm' | 'ptrace';

    it('deploys a function snapshot that restores with its env and resets per invocation', async () => {
      const storeDir = temp('store');
      const deployer = new Deployer({ store: new SnapshotStore(storeDir), workDir: temp('work'), platform });
      const r = await deployer.deploy({ tenant: 'acme', name: 'counter', bundle: COUNTER, memoryMiB: 32, timeoutMs: 5000, env: { WHO: 'acme' } });
      expect(r.diffPages).toBeGreaterThan(0);

      // A restarted process: a new store instance and deployer over the same directory.
      const restarted = new Deployer({ store: new SnapshotStore(storeDir), workDir: temp('work2'), platform });
      const vm = await MicroVM.restore(await restarted.snapshotFor(r.snapshotDigest));
      open.push(vm);
      expect((await vm.invoke({})).response.body.toString()).toBe('1 acme');
      expect((await vm.invoke({})).response.body.toString()).toBe('1 acme');
    });

    it('makes the base once per memory size and shares it across functions and restarts', async () => {
      const storeDir = temp('store');
      const a = await new Deployer({ store: new SnapshotStore(storeDir), workDir: temp('w'), platform }).deploy({ tenant: 't', name: 'a', bundle: COUNTER, memoryMiB: 32, timeoutMs: 5000, env: { WHO: 'a' } });
      const b = await new Deployer({ store: new SnapshotStore(storeDir), workDir: temp('w'), platform }).deploy({ tenant: 't', name: 'b', bundle: COUNTER, memoryMiB: 32, timeoutMs: 5000, env: { WHO: 'b' } });
      expect(b.baseDigest).toBe(a.baseDigest);
      expect(b.snapshotDigest).not.toBe(a.snapshotDigest);
      // The base is kept under a ref naming this build of the guest and the VMM.
      expect(await new SnapshotStore(storeDir).getRef(baseRef(platform, runtimeIdentity(platform), 32))).toBe(a.baseDigest);
    });

    it('an upgraded runtime gets a base of its own: new deploys do not restore the old runtime', async () => {
      const storeDir = temp('store');
      const store = new SnapshotStore(storeDir);
      const deployWith = (runtimeId: string) =>
        new Deployer({ store, workDir: temp('w'), platform, runtimeId }).deploy({ tenant: 't', name: 'f', bundle: COUNTER, memoryMiB: 32, timeoutMs: 5000, env: { WHO: runtimeId } });
      const old = await deployWith('build-old');
      expect(await store.getRef(baseRef(platform, 'build-old', 32))).toBe(old.baseDigest);
      expect(await store.getRef(baseRef(platform, 'build-new', 32))).toBeUndefined();
      const upgraded = await deployWith('build-new');
      expect(await store.getRef(baseRef(platform, 'build-new', 32))).toBe(upgraded.baseDigest);
      // The version deployed before the upgrade still restores from the base it was made over.
      const vm = await MicroVM.restore(await new Deployer({ store, workDir: temp('w'), platform, runtimeId: 'build-new' }).snapshotFor(old.snapshotDigest));
      open.push(vm);
      expect((await vm.invoke({})).response.body.toString()).toBe('1 build-old');
    });

    it('refuses a bundle whose init throws, with the JS error', async () => {
      const deployer = new Deployer({ store: new SnapshotStore(temp('store')), workDir: temp('work'), platform });
      const err = await deployer.deploy({ tenant: 't', name: 'bad', bundle: `throw new RangeError('nope at init');`, memoryMiB: 32, timeoutMs: 5000, env: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GuestLoadError);
      expect((err as GuestLoadError).jsMessage).toBe('nope at init');
    });
  },
  SNAPSHOT_BACKENDS,
);
