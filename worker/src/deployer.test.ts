// Deploy builds a function snapshot over a shared base, on a real VMM (ptrace here, KVM where
// /dev/kvm exists), and the stored snapshot restores after a restart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { GuestLoadError, MicroVM } from '@fn/vmm';
import { SnapshotStore } from '@fn/snapshots';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { Deployer } from './deployer.js';

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
