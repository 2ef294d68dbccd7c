import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PAGE_SIZE, sha256 } from './digest.js';
import { SnapshotError, SnapshotTransferError } from './errors.js';
import { encodeStateFile } from './state-file.js';
import { SnapshotStore } from './store.js';
import { GUEST_BYTES, basePayload, guestImage, putBase, putFunction, tempDir, type Built } from './test-support/fixtures.js';
import { packForTransfer, unpackFromTransfer } from './transfer.js';

let dir: string;
let cleanup: () => Promise<void>;
let source: SnapshotStore;
let target: SnapshotStore;
let base: Built;
let hello: Built;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  source = new SnapshotStore(join(dir, 'source'));
  target = new SnapshotStore(join(dir, 'target'));
  base = await putBase(source);
  hello = await putFunction(source, base, 'hello');
});
afterEach(() => cleanup());

async function packBytes(store: SnapshotStore, digest: Parameters<typeof packForTransfer>[1], options = {}): Promise<Buffer> {
  return Buffer.concat(await (await packForTransfer(store, digest, options)).toArray());
}

async function sameFile(a: string, b: string): Promise<void> {
  expect((await readFile(a)).equals(await readFile(b))).toBe(true);
}

/** Splits bytes into chunks of random sizes, as a network would. */
function chunked(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(Math.random() * 3000);
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return Readable.from(chunks);
}

describe('transfer', () => {
  it('moves a function snapshot with its base, streamed in arbitrary chunks, and verifies it', async () => {
    const pack = await packBytes(source, hello.digest);
    const result = await unpackFromTransfer(target, chunked(pack));
    expect(result.digest).toBe(hello.digest);
    expect(result.received.sort()).toEqual([base.digest, hello.digest, sha256(base.memory), sha256(hello.memory)].sort());
    const [from, to] = await Promise.all([source.loadSnapshot(hello.digest), target.loadSnapshot(hello.digest, { verifyMemory: 'full' })]);
    expect(to.state).toEqual(from.state);
    for (const [i, layer] of to.layers.entries()) await sameFile(layer.path, from.layers[i]!.path);
    await sameFile(to.statePath, from.statePath);
  });

  it('sends only non-zero pages, snappy-compressed', async () => {
    const pack = await packBytes(source, hello.digest);
    const dataPages = 6 + 3; // base image pages + diff image pages (see fixtures)
    // Two 256 KiB guest images travel in far less than their data pages: zeros are never sent.
    expect(pack.length).toBeLessThan((dataPages * PAGE_SIZE) / 2);
    expect(pack.length).toBeGreaterThan(0);
  });

  it('leaves out what the receiver already has', async () => {
    await unpackFromTransfer(target, await packForTransfer(source, base.digest));
    const full = await packBytes(source, hello.digest);
    const lean = await packBytes(source, hello.digest, { have: [base.digest, sha256(base.memory)] });
    expect(lean.length).toBeLessThan(full.length);
    const result = await unpackFromTransfer(target, lean);
    expect(result.received.sort()).toEqual([hello.digest, sha256(hello.memory)].sort());
    await target.loadSnapshot(hello.digest, { verifyMemory: 'full' });
  });

  it('refuses a lean pack on a receiver that lacks the base, leaving no state file behind', async () => {
    const lean = await packBytes(source, hello.digest, { have: [base.digest, sha256(base.memory)] });
    await expect(unpackFromTransfer(target, lean)).rejects.toBeInstanceOf(SnapshotError);
    expect(await target.hasBlob(hello.digest)).toBe(false);
  });

  it('carries incompressible pages raw', async () => {
    const noisy = Buffer.alloc(GUEST_BYTES);
    randomBytes(PAGE_SIZE * 3).copy(noisy, PAGE_SIZE * 7);
    const digest = await source.putSnapshot(encodeStateFile(basePayload(noisy)), [noisy]);
    const pack = await packBytes(source, digest);
    expect(pack.length).toBeGreaterThan(PAGE_SIZE * 3); // not shrunk, but not inflated much either
    expect(pack.length).toBeLessThan(PAGE_SIZE * 3 + 2048);
    await unpackFromTransfer(target, pack);
    await sameFile(await target.getBlobPath(sha256(noisy)), await source.getBlobPath(sha256(noisy)));
  });

  it('refuses a damaged pack wherever the damage is, and stores no snapshot from it', async () => {
    const pack = await packBytes(source, hello.digest);
    for (const at of [0, 12, 60, pack.length >> 2, pack.length >> 1, pack.length - 200, pack.length - 30]) {
      const bad = Buffer.from(pack);
      bad[at]! ^= 0x40;
      const fresh = new SnapshotStore(join(dir, `t-${at}`));
      const err = await unpackFromTransfer(fresh, bad).catch((e: unknown) => e);
      expect(err, `byte ${at}`).toBeInstanceOf(SnapshotError);
      expect(await fresh.hasBlob(hello.digest), `byte ${at}`).toBe(false);
    }
  });

  it('refuses a pack cut short and leaves no temp file', async () => {
    const pack = await packBytes(source, hello.digest);
    for (const at of [5, 100, pack.length >> 1, pack.length - 1]) {
      const fresh = new SnapshotStore(join(dir, `cut-${at}`));
      await expect(unpackFromTransfer(fresh, pack.subarray(0, at))).rejects.toBeInstanceOf(SnapshotTransferError);
      expect(await fresh.hasBlob(hello.digest)).toBe(false);
      const files = await readdir(fresh.dir, { recursive: true }).catch(() => [] as string[]);
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });

  it('refuses to pack a snapshot that is not in the store', async () => {
    await expect(packForTransfer(source, sha256(Buffer.from('absent')))).rejects.toBeInstanceOf(SnapshotError);
  });
});

// Keep the fixture image honest: the transfer tests above assume a sparse image.
it('fixture images are mostly zero pages', () => {
  const image = guestImage('x', [0, 1]);
  expect(image.length / PAGE_SIZE).toBeGreaterThan(10);
});
