// Real VM snapshots through the store: a base and a layered function snapshot are taken by a real
// VMM (the ptrace stand-in here, KVM where /dev/kvm exists), archived, then restored by a fresh
// store instance (a restart) from the materialized files.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { MicroVM } from '@fn/vmm';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { guestAbiVersion } from '@fn/guest';
import { SnapshotStore } from './store.js';
import { archiveSnapshot, materializeSnapshot } from './vm-archive.js';
import { sha256 } from './digest.js';

const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});
const temp = (name: string) => mkdtempSync(join(tmpdir(), `fn-archive-${name}-`));
const COUNTER = `let n = 0; export default { fetch() { n += 1; return new Response(String(n)); } };`;

describeEachBackend(
  'VM snapshots in the store',
  (backend) => {
    it('archives base and function snapshots and restores them after a restart', async () => {
      const storeDir = temp('store');
      const store = new SnapshotStore(storeDir);
      const memoryMiB = 32;
      const platform = backend as 'kvm' | 'ptrace';

      const baseVm = await MicroVM.boot({ backend, memoryMiB });
      open.push(baseVm);
      const base = await baseVm.snapshot(temp('base'));
      const baseDigest = await archiveSnapshot(store, { platform, dir: base.dir, memoryBytes: memoryMiB << 20, abiVersion: guestAbiVersion }, { kind: 'base' });

      const fnDir = temp('fn');
      const fnVm = open[open.push(await MicroVM.restore(base, { snapshotDir: fnDir })) - 1]!;
      await fnVm.load(COUNTER, { name: 'counter' });
      const fnSnap = await fnVm.snapshot(fnDir, { base });
      const fnDigest = await archiveSnapshot(
        store,
        { platform, dir: fnSnap.dir, memoryBytes: memoryMiB << 20, abiVersion: guestAbiVersion },
        { kind: 'function', base: baseDigest, function: { name: 'counter', version: 1, bundleDigest: sha256(Buffer.from(COUNTER)) } },
      );
      await store.setRef('counter@1', fnDigest);

      // A new store instance: what a restarted worker sees.
      const restarted = new SnapshotStore(storeDir);
      const digest = (await restarted.getRef('counter@1'))!;
      const files = await materializeSnapshot(restarted, digest, temp('work'));
      expect(files.baseMemoryPath).toBeDefined();
      expect(files.functionName).toBe('counter');
      const vm = await MicroVM.restore({
        platform,
        memoryMiB,
        dir: files.dir,
        baseMemoryPath: files.baseMemoryPath,
        functionName: 'counter',
        pages: 0,
        diffPages: 0,
        ms: 0,
      });
      open.push(vm);
      expect([(await vm.invoke({})).response.body.toString(), (await vm.invoke({})).response.body.toString()]).toEqual(['1', '1']);

      const loaded = await restarted.loadSnapshot(digest);
      expect(loaded.layers.map((l) => l.role)).toEqual(['base', 'diff']);
      expect(loaded.layers[1]!.pages).toBe(fnSnap.diffPages);
    });
  },
  SNAPSHOT_BACKENDS,
);
