import { readFile, readdir, stat, truncate, utimes, writeFile, rename, open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PAGE_SIZE, sha256 } from './digest.js';
import { SnapshotCorruptError, SnapshotError, SnapshotMemoryFileError, SnapshotNotFoundError } from './errors.js';
import { FORMAT_VERSION, encodeStateFile } from './state-file.js';
import { SnapshotStore } from './store.js';
import { GUEST_BYTES, basePayload, functionSnapshot, guestImage, putBase, putFunction, tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: SnapshotStore;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = new SnapshotStore(dir);
});
afterEach(() => cleanup());

async function allFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/** Byte-for-byte equality; vitest's toEqual walks a Buffer element by element and is very slow. */
function expectBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

/** Makes every file in the store look written two hours ago (past the default grace period). */
async function ageEverything(): Promise<void> {
  const past = new Date(Date.now() - 2 * 3600_000);
  for (const f of await allFiles(dir)) await utimes(f, past, past);
}

describe('blobs', () => {
  it('are content-addressed by sha256 under blobs/sha256/ab/cdef…', async () => {
    const bytes = Buffer.from('hello snapshot');
    const digest = await store.putBlob(bytes);
    expect(digest).toBe(sha256(bytes));
    const hex = digest.slice(7);
    const path = await store.getBlobPath(digest);
    expect(path).toBe(join(dir, 'blobs', 'sha256', hex.slice(0, 2), hex.slice(2)));
    expectBytes(await readFile(path), bytes);
  });

  it('store a file by path under the same digest, sparse on disk', async () => {
    const image = guestImage('img', [0, 100, 101]);
    const src = join(dir, 'image.bin');
    await writeFile(src, image);
    const digest = await store.putBlob(src);
    expect(digest).toBe(sha256(image));
    const st = await stat(await store.getBlobPath(digest));
    expect(st.size).toBe(image.length);
    // Three data pages of 64: zero pages must be holes, not written zeros.
    expect(st.blocks * 512).toBeLessThan(image.length / 4);
    expectBytes(await readFile(await store.getBlobPath(digest)), image);
  });

  it('are written once: putting existing content again does not rewrite it', async () => {
    const image = guestImage('x', [1]);
    const digest = await store.putBlob(image);
    const before = await stat(await store.getBlobPath(digest));
    expect(await store.putBlob(image)).toBe(digest);
    const src = join(dir, 'again.bin');
    await writeFile(src, image);
    expect(await store.putBlob(src)).toBe(digest);
    const after = await stat(await store.getBlobPath(digest));
    expect(after.ino).toBe(before.ino);
    expect((await allFiles(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('survive many concurrent puts of the same and of different content', async () => {
    const contents = Array.from({ length: 6 }, (_, i) => guestImage(`c${i}`, [i, i + 7]));
    const puts = await Promise.all(Array.from({ length: 48 }, (_, i) => store.putBlob(contents[i % contents.length]!)));
    puts.forEach((d, i) => expect(d).toBe(sha256(contents[i % contents.length]!)));
    for (const c of contents) {
      await store.verifyBlob(sha256(c));
      expectBytes(await readFile(await store.getBlobPath(sha256(c))), c);
    }
    expect((await allFiles(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('are never read from a temp file left by a crash, and gc removes old temp files', async () => {
    const image = guestImage('crash', [3]);
    const digest = sha256(image);
    const final = store.blobPath(digest);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(final, '..'), { recursive: true });
    const oldTemp = `${final}.0123456789ab.tmp`;
    const youngTemp = `${final}.ba9876543210.tmp`;
    await writeFile(oldTemp, image.subarray(0, PAGE_SIZE * 2)); // half-written, never renamed
    await writeFile(youngTemp, image.subarray(0, PAGE_SIZE)); // a writer that is still running
    const past = new Date(Date.now() - 2 * 3600_000);
    await utimes(oldTemp, past, past);

    expect(await store.hasBlob(digest)).toBe(false);
    await expect(store.getBlobPath(digest)).rejects.toBeInstanceOf(SnapshotNotFoundError);
    const report = await store.gc();
    expect(report.removedTempFiles).toEqual([oldTemp]);
    expect(report.removed).toEqual([]);
    expect((await allFiles(dir)).sort()).toEqual([youngTemp]);
    expect(await store.putBlob(image)).toBe(digest);
    await store.verifyBlob(digest);
  });

  it('that were cut short at their final name are caught by verifyBlob', async () => {
    const image = guestImage('torn', [0, 1, 2]);
    const digest = await store.putBlob(image);
    await store.verifyBlob(digest);
    await truncate(store.blobPath(digest), PAGE_SIZE);
    await expect(store.verifyBlob(digest)).rejects.toBeInstanceOf(SnapshotCorruptError);
    await expect(store.verifyBlob(sha256(Buffer.from('absent')))).rejects.toBeInstanceOf(SnapshotNotFoundError);
  });
});

describe('snapshots', () => {
  it('load with their state and verified memory layer paths', async () => {
    const base = await putBase(store);
    const fn = await putFunction(store, base, 'hello');
    const loaded = await store.loadSnapshot(fn.digest);
    expect(loaded.formatVersion).toEqual(FORMAT_VERSION);
    expect(loaded.state.function?.name).toBe('hello');
    expect(loaded.state.base).toBe(base.digest);
    expect(loaded.layers.map((l) => l.role)).toEqual(['base', 'diff']);
    expectBytes(await readFile(loaded.layers[0]!.path), base.memory);
    expectBytes(await readFile(loaded.layers[1]!.path), fn.memory);
    expect(loaded.layers[1]!.runs).toEqual([
      [2, 1],
      [20, 3],
    ]);
    expectBytes(await readFile(loaded.statePath), fn.state);
  });

  it('are refused when a memory file is one page short (the SIGBUS guard), even without rehashing', async () => {
    const base = await putBase(store);
    await truncate(store.blobPath(sha256(base.memory)), GUEST_BYTES - PAGE_SIZE);
    for (const verifyMemory of ['size', 'cached', 'full'] as const) {
      const err = await store.loadSnapshot(base.digest, { verifyMemory }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SnapshotMemoryFileError);
      expect((err as Error).message).toMatch(/SIGBUS/);
    }
  });

  it('are refused when a memory file has the wrong content (digest mismatch) or is missing', async () => {
    const base = await putBase(store);
    await store.loadSnapshot(base.digest);
    const path = store.blobPath(sha256(base.memory));
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, 5 * PAGE_SIZE + 17);
    await fh.close();
    await expect(new SnapshotStore(dir).loadSnapshot(base.digest)).rejects.toThrow(SnapshotMemoryFileError);
    await expect(store.loadSnapshot(base.digest, { verifyMemory: 'full' })).rejects.toThrow(/is damaged: its content hashes to/);
    const { rm } = await import('node:fs/promises');
    await rm(path);
    await expect(store.loadSnapshot(base.digest)).rejects.toThrow(/not in the store/);
  });

  it('are never returned from a torn state file', async () => {
    const base = await putBase(store);
    await truncate(store.blobPath(base.digest), 30);
    await expect(store.loadSnapshot(base.digest)).rejects.toBeInstanceOf(SnapshotCorruptError);
    await expect(store.verifyBlob(base.digest)).rejects.toBeInstanceOf(SnapshotCorruptError);
  });

  it('are refused at put time when incomplete or inconsistent, and nothing is stored for them', async () => {
    const base = await putBase(store);
    const { state, memory } = functionSnapshot(base, 'f');
    await expect(store.putSnapshot(state, [])).rejects.toThrow(SnapshotMemoryFileError);
    await expect(store.putSnapshot(state, [memory, Buffer.from('stray')])).rejects.toThrow(/which no layer of the state file names/);
    await expect(store.putSnapshot(state.subarray(0, 40), [memory])).rejects.toBeInstanceOf(SnapshotError);
    expect(await store.hasBlob(sha256(state))).toBe(false);

    const otherStore = new SnapshotStore(join(dir, 'other'));
    await otherStore.putBlob(base.memory); // the base layer, but not the base snapshot
    await expect(otherStore.putSnapshot(state, [memory])).rejects.toBeInstanceOf(SnapshotNotFoundError);

    const otherBase = await putBase(store, 'other-base');
    const wrongBase = functionSnapshot(base, 'g');
    const forged = encodeStateFile({ ...JSON.parse(wrongBase.state.subarray(20, -4).toString()), base: otherBase.digest });
    await expect(store.putSnapshot(forged, [wrongBase.memory])).rejects.toThrow(/does not layer on base snapshot/);
  });
});

describe('refs', () => {
  it('set, list, delete, and survive a new store instance (restart)', async () => {
    const base = await putBase(store);
    const fn = await putFunction(store, base, 'hello');
    await store.setRef('base', base.digest);
    await store.setRef('tenant-a/hello@3', fn.digest);
    await store.setRef('tenant-a/hello@3', fn.digest); // idempotent
    const restarted = new SnapshotStore(dir);
    expect(await restarted.listRefs()).toEqual([
      { name: 'base', digest: base.digest },
      { name: 'tenant-a/hello@3', digest: fn.digest },
    ]);
    expect(await restarted.getRef('tenant-a/hello@3')).toBe(fn.digest);
    expect(await restarted.deleteRef('base')).toBe(true);
    expect(await restarted.deleteRef('base')).toBe(false);
    expect(await new SnapshotStore(dir).listRefs()).toEqual([{ name: 'tenant-a/hello@3', digest: fn.digest }]);
  });

  it('refuse a snapshot that is not (wholly) in the store, and bad names', async () => {
    await expect(store.setRef('x', sha256(Buffer.from('nothing')))).rejects.toBeInstanceOf(SnapshotNotFoundError);
    const base = await putBase(store);
    const { rm } = await import('node:fs/promises');
    await rm(store.blobPath(sha256(base.memory)));
    await expect(store.setRef('base', base.digest)).rejects.toBeInstanceOf(SnapshotNotFoundError);
    expect(await store.listRefs()).toEqual([]);
    await expect(store.setRef('', base.digest)).rejects.toThrow(/not a valid ref name/);
    await expect(store.setRef('..', base.digest)).rejects.toThrow(/not a valid ref name/);
  });
});

describe('gc', () => {
  it('keeps everything reachable from refs and removes the rest', async () => {
    const base = await putBase(store);
    const hello = await putFunction(store, base, 'hello');
    const orphan = await putFunction(store, base, 'orphan');
    const unrelated = await putBase(store, 'unrelated');
    const stray = await store.putBlob(Buffer.from('stray blob'));
    await store.setRef('base', base.digest);
    await store.setRef('hello@1', hello.digest);
    await ageEverything();

    const report = await store.gc();
    expect(report.removed.sort()).toEqual([orphan.digest, sha256(orphan.memory), unrelated.digest, sha256(unrelated.memory), stray].sort());
    expect(report.reachable).toBe(4);
    expect((await store.loadSnapshot(hello.digest, { verifyMemory: 'full' })).layers).toHaveLength(2);
    await store.loadSnapshot(base.digest, { verifyMemory: 'full' });

    // A function version goes away: its diff goes, the shared base stays while "base" holds it.
    await store.deleteRef('hello@1');
    await ageEverything();
    expect((await store.gc()).removed.sort()).toEqual([hello.digest, sha256(hello.memory)].sort());
    await store.loadSnapshot(base.digest);
    await store.deleteRef('base');
    await ageEverything();
    expect((await store.gc()).removed.sort()).toEqual([base.digest, sha256(base.memory)].sort());
    expect((await allFiles(dir)).filter((f) => f.includes('blobs'))).toEqual([]);
  });

  it("keeps the snapshots and blobs given as roots (a registry's versions and bundles) and counts the disk it holds", async () => {
    const base = await putBase(store);
    const kept = await putFunction(store, base, 'kept');
    const dropped = await putFunction(store, base, 'dropped');
    const bundle = await store.putBlob(Buffer.from('export default {}'));
    const before = await store.diskUsage();
    expect(before.blobs).toBe(7);
    await ageEverything();

    const report = await store.gc({ keep: { snapshots: [kept.digest], blobs: [bundle] } });
    expect(report.removed.sort()).toEqual([dropped.digest, sha256(dropped.memory)].sort());
    expect(report.deferred).toBe(0);
    await store.loadSnapshot(kept.digest, { verifyMemory: 'full' });
    expect(await store.readBlob(bundle)).toEqual(Buffer.from('export default {}'));
    const after = await store.diskUsage();
    expect(after.blobs).toBe(5);
    expect(after.bytes).toBeLessThan(before.bytes);
  });

  it('reports unreachable blobs it keeps for the grace period as deferred', async () => {
    await store.putBlob(Buffer.from('young garbage'));
    const report = await store.gc();
    expect(report.removed).toEqual([]);
    expect(report.deferred).toBe(1);
  });

  it('keeps a base that only a function snapshot reaches', async () => {
    const base = await putBase(store);
    const hello = await putFunction(store, base, 'hello');
    await store.setRef('hello@1', hello.digest);
    await ageEverything();
    expect((await store.gc()).removed).toEqual([]);
    await store.loadSnapshot(hello.digest);
  });

  it('leaves young unreferenced blobs alone (a putSnapshot not yet followed by setRef)', async () => {
    const base = await putBase(store);
    expect((await store.gc()).removed).toEqual([]);
    expect((await store.gc({ graceMs: 0, now: Date.now() + 1000 })).removed.length).toBe(2);
    expect(await store.hasBlob(base.digest)).toBe(false);
  });

  it('reports dangling refs and refuses to collect when a reachable state file is damaged', async () => {
    const base = await putBase(store);
    const junk = await store.putBlob(Buffer.from('junk'));
    await store.setRef('base', base.digest);
    await ageEverything();
    await truncate(store.blobPath(base.digest), 25);
    await expect(store.gc()).rejects.toBeInstanceOf(SnapshotCorruptError);
    expect(await store.hasBlob(junk)).toBe(true);
    expect(await store.hasBlob(sha256(base.memory))).toBe(true);

    const { rm } = await import('node:fs/promises');
    await rm(store.blobPath(base.digest));
    const report = await store.gc();
    expect(report.danglingRefs).toEqual(['base']);
    expect(report.removed.sort()).toEqual([junk, sha256(base.memory)].sort());
  });

  it('puts back a blob that a crashed gc had renamed aside', async () => {
    const base = await putBase(store);
    await store.setRef('base', base.digest);
    const path = store.blobPath(sha256(base.memory));
    await rename(path, `${path}.0123456789ab.gc`);
    await expect(store.loadSnapshot(base.digest)).rejects.toThrow(SnapshotMemoryFileError);
    await ageEverything();
    expect((await store.gc()).removed).toEqual([]);
    await store.loadSnapshot(base.digest, { verifyMemory: 'full' });
  });

  it('never breaks a snapshot that a concurrent writer stores and refs, even when its blobs were old garbage', async () => {
    const base = await putBase(store);
    await store.setRef('base', base.digest);
    for (let round = 0; round < 20; round++) {
      // The same function deployed again after its version was dropped: its blobs are old garbage.
      const { state, memory } = functionSnapshot(base, `fn-${round % 3}`);
      await store.putSnapshot(state, [memory]);
      await store.deleteRef('live');
      await ageEverything();
      const writer = (async () => {
        for (let i = 0; i < round % 5; i++) await new Promise((r) => setImmediate(r)); // vary the interleaving
        const digest = await store.putSnapshot(state, [memory]);
        await store.setRef('live', digest);
        return digest;
      })();
      const [digest] = await Promise.all([writer, store.gc()]);
      await store.loadSnapshot(digest, { verifyMemory: 'full' });
      expect(await store.getRef('live')).toBe(digest);
    }
  });
});
