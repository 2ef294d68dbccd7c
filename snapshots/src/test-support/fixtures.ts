/**
 * Small but shaped-like-real snapshots for tests: sparse guest images (a few non-zero pages in a
 * mostly-zero guest), a base, and function snapshots whose diff layer overrides some pages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_SIZE, sha256, type Digest } from '../digest.js';
import { encodeStateFile, type StatePayloadInput } from '../state-file.js';
import type { SnapshotStore } from '../store.js';

export const GUEST_BYTES = 64 * PAGE_SIZE; // 256 KiB: big enough to be sparse, small enough to be fast

export async function tempDir(prefix = 'fn-snapshots-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Text-like page content (compressible, never all zero), different per seed and page. */
export function pageContent(seed: string, page: number): Buffer {
  const line = `${seed}:${page}: function handler(event) { return { statusCode: 200, body: JSON.stringify(event) }; }\n`;
  return Buffer.from(line.repeat(Math.ceil(PAGE_SIZE / line.length)).slice(0, PAGE_SIZE), 'latin1');
}

/** A guest image with the given pages filled (the rest zero, i.e. holes once stored). */
export function guestImage(seed: string, pages: number[], bytes = GUEST_BYTES): Buffer {
  const image = Buffer.alloc(bytes);
  for (const p of pages) pageContent(seed, p).copy(image, p * PAGE_SIZE);
  return image;
}

export const CPU_BLOB = Buffer.from('registers+fpu+msrs'.repeat(40)).toString('base64');
export const LAYOUT_BLOB = Buffer.from('FNPAGES\0 page runs as the VMM wrote them').toString('base64');

export function basePayload(memory: Buffer, overrides: Partial<StatePayloadInput> = {}): StatePayloadInput {
  return {
    platform: 'kvm',
    abiVersion: 1,
    memoryBytes: memory.length,
    createdAt: '2025-01-02T03:04:05.000Z',
    kind: 'base',
    cpu: CPU_BLOB,
    layout: LAYOUT_BLOB,
    memory: { layers: [{ role: 'base', digest: sha256(memory), bytes: memory.length, pages: countDataPages(memory) }] },
    ...overrides,
  };
}

export function countDataPages(image: Buffer): number {
  let n = 0;
  for (let off = 0; off < image.length; off += PAGE_SIZE) if (image.subarray(off, off + PAGE_SIZE).some((b) => b !== 0)) n++;
  return n;
}

export interface Built {
  digest: Digest;
  state: Buffer;
  memory: Buffer;
}

export async function putBase(store: SnapshotStore, seed = 'base'): Promise<Built> {
  const memory = guestImage(seed, [0, 1, 2, 10, 11, 40]);
  const state = encodeStateFile(basePayload(memory));
  return { digest: await store.putSnapshot(state, [memory]), state, memory };
}

/** A function snapshot on `base` whose diff overrides pages 2 and 20–22 (page 2 becomes zero). */
export function functionSnapshot(base: Built, name: string): { state: Buffer; memory: Buffer } {
  const memory = guestImage(name, [20, 21, 22]);
  const runs: Array<[number, number]> = [
    [2, 1],
    [20, 3],
  ];
  const state = encodeStateFile({
    ...basePayload(base.memory),
    kind: 'function',
    function: { name, version: '1', bundleDigest: sha256(Buffer.from(name)) },
    base: base.digest,
    memory: {
      layers: [
        { role: 'base', digest: sha256(base.memory), bytes: base.memory.length, pages: countDataPages(base.memory) },
        { role: 'diff', digest: sha256(memory), bytes: memory.length, pages: 4, runs },
      ],
    },
  });
  return { state, memory };
}

export async function putFunction(store: SnapshotStore, base: Built, name: string): Promise<Built> {
  const { state, memory } = functionSnapshot(base, name);
  return { digest: await store.putSnapshot(state, [memory]), state, memory };
}
