// Deploy builds a function snapshot over a shared base, on a real VMM (ptrace here, KVM where
// /dev/kvm exists), and the stored snapshot restores after a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { GuestLoadError, MicroVM } from '@fn/vmm';
import { SnapshotStore } from '@fn/snapshots';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { baseRef, Deployer, rebuiltRef } from './deployer.js';
import { RuntimeMismatchError } from './errors.js';
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
      const a = await new Deployer({ store: new SnapshotStore(storeDir), workDir: temp('w'), platform }).deploy({
        tenant: 't',
        name: 'a',
        bundle: COUNTER,
        memoryMiB: 32,
        timeoutMs: 5000,
        env: { WHO: 'a' },
      });
      const b = await new Deployer({ store: new SnapshotStore(storeDir), workDir: temp('w'), platform }).deploy({
        tenant: 't',
        name: 'b',
        bundle: COUNTER,
        memoryMiB: 32,
        timeoutMs: 5000,
        env: { WHO: 'b' },
      });
      expect(b.baseDigest).toBe(a.baseDigest);
      expect(b.snapshotDigest).not.toBe(a.snapshotDigest);
      // The base is kept under a ref naming this build of the guest and the VMM.
      expect(await new SnapshotStore(storeDir).getRef(baseRef(platform, runtimeIdentity(platform), 32))).toBe(a.baseDigest);
    });

    it('an upgraded runtime gets a base of its own: new deploys do not restore the old runtime', async () => {
      const storeDir = temp('store');
      const store = new SnapshotStore(storeDir);
      const deployWith = (runtimeId: string) =>
        new Deployer({ store, workDir: temp('w'), platform, runtimeId }).deploy({
          tenant: 't',
          name: 'f',
          bundle: COUNTER,
          memoryMiB: 32,
          timeoutMs: 5000,
          env: { WHO: runtimeId },
        });
      const old = await deployWith('build-old');
      expect(await store.getRef(baseRef(platform, 'build-old', 32))).toBe(old.baseDigest);
      expect(await store.getRef(baseRef(platform, 'build-new', 32))).toBeUndefined();
      const upgraded = await deployWith('build-new');
      expect(await store.getRef(baseRef(platform, 'build-new', 32))).toBe(upgraded.baseDigest);
      expect((await store.loadSnapshot(upgraded.snapshotDigest)).state.runtimeId).toBe('build-new');
    });

    it('refuses a snapshot of another runtime build, and rebuilds a function snapshot from its bundle once', async () => {
      const store = new SnapshotStore(temp('store'));
      const bundle = `let n = 0; export default { fetch() { n += 1; return new Response('n=' + n); } };`;
      const request = { tenant: 't', name: 'f', bundle, memoryMiB: 32, timeoutMs: 5000, env: {} };
      const old = await new Deployer({ store, workDir: temp('w'), platform, runtimeId: 'build-old' }).deploy(request);
      expect((await store.loadSnapshot(old.snapshotDigest)).state.runtimeId).toBe('build-old');
      const upgraded = new Deployer({ store, workDir: temp('w'), platform, runtimeId: 'build-new' });

      const refused = await upgraded.snapshotFor(old.baseDigest).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RuntimeMismatchError);
      expect((refused as Error).message).toMatch(/made by runtime build build-old, but this worker runs build build-new: it is not restored/);

      const snapshot = await upgraded.snapshotFor(old.snapshotDigest);
      const rebuilt = await store.getRef(rebuiltRef(old.snapshotDigest, 'build-new'));
      expect(rebuilt).toBeDefined();
      expect(rebuilt).not.toBe(old.snapshotDigest);
      const state = (await store.loadSnapshot(rebuilt!)).state;
      expect(state.runtimeId).toBe('build-new');
      expect(state.function).toEqual({ name: 't/f', bundleDigest: old.bundleDigest });
      expect(state.base).toBe(await store.getRef(baseRef(platform, 'build-new', 32)));
      const vm = await MicroVM.restore(snapshot);
      open.push(vm);
      expect((await vm.invoke({})).response.body.toString()).toBe('n=1');
      // A restart finds the rebuilt snapshot under its ref instead of rebuilding again.
      const restarted = new Deployer({ store, workDir: temp('w'), platform, runtimeId: 'build-new' });
      expect((await restarted.snapshotFor(old.snapshotDigest)).dir).toContain(rebuilt!.replace('sha256:', ''));
    });

    it('says so when a snapshot of another build cannot be rebuilt because its bundle is gone', async () => {
      const store = new SnapshotStore(temp('store'));
      const old = await new Deployer({ store, workDir: temp('w'), platform, runtimeId: 'build-old' }).deploy({
        tenant: 't',
        name: 'f',
        bundle: COUNTER,
        memoryMiB: 32,
        timeoutMs: 5000,
        env: {},
      });
      rmSync(store.blobPath(old.bundleDigest));
      const err = await new Deployer({ store, workDir: temp('w'), platform, runtimeId: 'build-new' }).snapshotFor(old.snapshotDigest).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RuntimeMismatchError);
      expect((err as Error).message).toMatch(/bundle is not in the store to rebuild it from — deploy the function again/);
    });

    it('refuses a bundle whose init throws, with the JS error', async () => {
      const deployer = new Deployer({ store: new SnapshotStore(temp('store')), workDir: temp('work'), platform });
      const err = await deployer
        .deploy({ tenant: 't', name: 'bad', bundle: `throw new RangeError('nope at init');`, memoryMiB: 32, timeoutMs: 5000, env: {} })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GuestLoadError);
      expect((err as GuestLoadError).jsMessage).toBe('nope at init');
    });
  },
  SNAPSHOT_BACKENDS,
);
