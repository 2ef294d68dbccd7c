// Snapshots and per-invocation isolation on the backends that have them: every invocation starts
// from the function's snapshot, never from what an earlier invocation left behind.
import { mkdtempSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { VmSnapshotError } from './errors.js';
import { MicroVM, type VmSnapshot } from './microvm.js';
import { describeEachBackend, SNAPSHOT_BACKENDS } from './test-support/backends.js';
import { RANDOMNESS } from './test-support/bundles.js';
import { COUNTER, FRESH_MEGABYTE, STASH } from './test-support/snapshot-bundles.js';
import type { Platform } from './transport.js';

const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});
const track = (vm: MicroVM) => (open.push(vm), vm);
const tempDir = () => mkdtempSync(join(tmpdir(), 'fn-snapshot-test-'));
const text = (r: { response: { body: Buffer } }) => r.response.body.toString('utf8');

async function snapshotOf(backend: Platform, bundle: string): Promise<{ vm: MicroVM; snapshot: VmSnapshot }> {
  const vm = track(await MicroVM.boot({ backend }));
  await vm.load(bundle, { name: 'snap-fn' });
  const snapshot = await vm.snapshot(tempDir());
  return { vm, snapshot };
}

describeEachBackend(
  'snapshots',
  (backend) => {
    it('resets after every invocation: the counter is 1 every time', async () => {
      const { vm } = await snapshotOf(backend, COUNTER);
      const seen = [];
      for (let i = 0; i < 5; i++) seen.push(text(await vm.invoke({})));
      expect(seen).toEqual(['1', '1', '1', '1', '1']);
      // The same VM without resets counts up: the reset is what makes it 1.
      vm.resetAfterInvoke = false;
      await vm.settled();
      expect([text(await vm.invoke({})), text(await vm.invoke({}))]).toEqual(['1', '2']);
    });

    it('resets while invocations overlap (the ptrace VMM then resets by itself, unasked): the counter is 1 every time', async () => {
      const { vm, snapshot } = await snapshotOf(backend, COUNTER);
      const other = track(await MicroVM.restore(snapshot));
      const transport = (vm as unknown as { transport: { reset?: () => Promise<unknown> } }).transport;
      const asked = transport.reset ? vi.spyOn(transport as { reset: () => Promise<unknown> }, 'reset') : undefined;
      const seen = [];
      for (let i = 0; i < 5; i++) seen.push(...(await Promise.all([other.invoke({}), vm.invoke({})])).map(text));
      expect(seen).toEqual(Array(10).fill('1'));
      await vm.settled();
      expect(vm.lastReset).toBeDefined();
      // vm's invocations started while other's ran: on ptrace the VMM reset after DONE unasked.
      if (backend === 'ptrace') expect(asked).not.toHaveBeenCalled();
    });

    it('never shows one invocation the data an earlier one stashed in a global', async () => {
      const { vm } = await snapshotOf(backend, STASH);
      for (const secret of ['alice-secret', 'bob-secret', 'carol-secret']) {
        const r = JSON.parse(text(await vm.invoke({ method: 'POST', body: secret })));
        expect(r.previous).toBeNull();
      }
    });

    it('undoes pages an invocation touched for the first time', async () => {
      const { vm } = await snapshotOf(backend, FRESH_MEGABYTE);
      const heap = new Set<number>();
      for (let i = 0; i < 50; i++) {
        const r = await vm.invoke({});
        expect(JSON.parse(text(r)).kept).toBe(1);
        heap.add(r.memory.heapUsedBytes);
      }
      expect(heap.size).toBe(1);
      await vm.settled();
      expect(vm.lastReset!.dirtyPages).toBeGreaterThanOrEqual(256); // the fresh 1 MiB was undone
    });

    it('gives 1000 invocations from one snapshot 1000 distinct UUIDs and Math.random values', async () => {
      const { vm } = await snapshotOf(backend, RANDOMNESS);
      const uuids = new Set<string>();
      const randoms = new Set<number>();
      for (let i = 0; i < 1000; i++) {
        const r = JSON.parse(text(await vm.invoke({})));
        uuids.add(r.uuid);
        randoms.add(r.random);
      }
      expect(uuids.size).toBe(1000);
      expect(randoms.size).toBe(1000);
    });

    it('restores into new VMs that start from the snapshot, with fresh randomness and the current time', async () => {
      const { vm, snapshot } = await snapshotOf(backend, RANDOMNESS);
      vm.close();
      await new Promise((r) => setTimeout(r, 2000)); // the snapshot is now "long ago"
      const uuids = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const restored = track(await MicroVM.restore(snapshot));
        const r = JSON.parse(text(await restored.invoke({})));
        uuids.add(r.uuid);
        expect(Math.abs(r.now - Date.now())).toBeLessThan(1000);
        restored.close();
      }
      expect(uuids.size).toBe(10);
    });

    it('restores a counter snapshot that answers 1 from a fresh VM', async () => {
      const { snapshot } = await snapshotOf(backend, COUNTER);
      const restored = track(await MicroVM.restore(snapshot));
      expect([text(await restored.invoke({})), text(await restored.invoke({}))]).toEqual(['1', '1']);
    });

    it('layers a function snapshot over the base runtime snapshot', async () => {
      const baseVm = track(await MicroVM.boot({ backend }));
      const base = await baseVm.snapshot(tempDir());
      expect(base.functionName).toBeUndefined();
      const fnDir = tempDir();
      const fromBase = track(await MicroVM.restore(base, { snapshotDir: fnDir }));
      await fromBase.load(COUNTER, { name: 'layered' });
      const fn = await fromBase.snapshot(fnDir, { base });
      expect(fn.diffPages).toBeGreaterThan(0);
      expect(fn.diffPages).toBeLessThan(base.pages);
      const restored = track(await MicroVM.restore(fn));
      expect([text(await restored.invoke({})), text(await restored.invoke({}))]).toEqual(['1', '1']);
    });

    it('refuses a memory file shorter than guest memory', async () => {
      const { snapshot } = await snapshotOf(backend, COUNTER);
      const memory = join(snapshot.dir, 'memory.img');
      truncateSync(memory, statSync(memory).size - 4096);
      const err = await MicroVM.restore(snapshot).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VmSnapshotError);
      expect((err as Error).message).toMatch(/short|size/i);
    });

    it('refuses a damaged CPU state file', async () => {
      const { snapshot } = await snapshotOf(backend, COUNTER);
      const cpu = join(snapshot.dir, 'cpu.bin');
      const bytes = readFileSync(cpu);
      bytes[100] = bytes[100]! ^ 0xff;
      writeFileSync(cpu, bytes);
      const err = await MicroVM.restore(snapshot).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VmSnapshotError);
    });
  },
  SNAPSHOT_BACKENDS,
);

describeEachBackend(
  'snapshots are refused where the backend has none',
  (backend) => {
    it('says which backends have them', async () => {
      const vm = track(await MicroVM.boot({ backend }));
      await expect(vm.snapshot(tempDir())).rejects.toThrow(/use kvm or ptrace/);
    });
  },
  ['process'],
);
