/**
 * The moment gc is most dangerous: it has decided a blob is old garbage and is about to remove
 * it, and a writer revives that very content. node:fs/promises' rename is wrapped so the test can
 * act exactly when gc renames a blob aside, without any hook in the store itself.
 */
import { utimes } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sha256 } from './digest.js';
import { SnapshotNotFoundError } from './errors.js';
import { SnapshotStore } from './store.js';
import { functionSnapshot, putBase, tempDir } from './test-support/fixtures.js';

const hooks = vi.hoisted(() => ({
  beforeAside: undefined as undefined | ((path: string) => Promise<void>),
  afterAside: undefined as undefined | ((path: string) => Promise<void>),
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof real.rename = async (from, to) => {
    const aside = String(to).endsWith('.gc');
    if (aside) await hooks.beforeAside?.(String(from));
    await real.rename(from, to);
    if (aside) await hooks.afterAside?.(String(from));
  };
  return { ...real, default: { ...real, rename }, rename };
});

let dir: string;
let cleanup: () => Promise<void>;
let store: SnapshotStore;
const past = new Date(Date.now() - 2 * 3600_000);

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = new SnapshotStore(dir);
});
afterEach(async () => {
  hooks.beforeAside = hooks.afterAside = undefined;
  await cleanup();
});

async function oldGarbageFunction() {
  const base = await putBase(store);
  await store.setRef('base', base.digest);
  const fn = functionSnapshot(base, 'hello');
  const digest = await store.putSnapshot(fn.state, [fn.memory]);
  for (const d of [digest, sha256(fn.memory)]) await utimes(store.blobPath(d), past, past);
  return { ...fn, digest };
}

describe('gc racing a writer that revives old garbage', () => {
  it('puts a blob back when the writer touched it just before gc moved it aside', async () => {
    const fn = await oldGarbageFunction();
    let revived = false;
    hooks.beforeAside = async () => {
      hooks.beforeAside = undefined;
      await store.putSnapshot(fn.state, [fn.memory]); // touches both blobs
      revived = true;
    };
    const report = await store.gc();
    expect(revived).toBe(true);
    expect(report.removed).toEqual([]);
    await store.setRef('hello@1', fn.digest);
    await store.loadSnapshot(fn.digest, { verifyMemory: 'full' });
  });

  it('lets a writer that finds the blob moved aside write it afresh', async () => {
    const fn = await oldGarbageFunction();
    let put: Promise<string> | undefined;
    hooks.afterAside = async (path) => {
      if (path !== store.blobPath(sha256(fn.memory))) return;
      hooks.afterAside = undefined;
      put = store.putBlob(fn.memory);
      await put; // the blob's name is free: putBlob writes a new copy
    };
    const report = await store.gc();
    expect(report.removed).toContain(sha256(fn.memory)); // the old copy went
    expect(await put).toBe(sha256(fn.memory));
    await store.verifyBlob(sha256(fn.memory)); // the new copy is whole
  });

  it('never writes a ref to a snapshot that gc removed under it', async () => {
    const fn = await oldGarbageFunction();
    let setRef: Promise<unknown> | undefined;
    hooks.afterAside = async () => {
      hooks.afterAside = undefined;
      setRef = store.setRef('hello@1', fn.digest).catch((e: unknown) => e);
    };
    await store.gc();
    expect(setRef).toBeDefined();
    const outcome = await setRef;
    if (outcome instanceof Error) {
      expect(outcome).toBeInstanceOf(SnapshotNotFoundError);
      expect(await store.getRef('hello@1')).toBeUndefined();
    } else {
      await store.loadSnapshot(fn.digest, { verifyMemory: 'full' }); // it won: everything is there
    }
  });
});
