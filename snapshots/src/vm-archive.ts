/**
 * Between a VMM's snapshot directory and the store. A VMM (the KVM core or the ptrace stand-in)
 * writes cpu.bin, memory.img and pages.bin into a directory (guest/include/fn_vmm_control.h);
 * archiveSnapshot() turns that into a content-addressed snapshot (state file + memory blob), and
 * materializeSnapshot() lays a stored snapshot out as such a directory again for a restore, with
 * memory.img a hard link to the immutable blob so every VM of a function maps the same file.
 */
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from './digest.js';
import { SnapshotError } from './errors.js';
import { decodeCpuEnvelope, decodePagesFile } from './snapshot-files.js';
import { encodeStateFile, type StatePayloadInput } from './state-file.js';
import type { SnapshotStore } from './store.js';

export interface VmSnapshotDir {
  platform: 'kvm' | 'ptrace';
  /** Holds cpu.bin, memory.img and pages.bin as the VMM wrote them. */
  dir: string;
  memoryBytes: number;
  /** FN_ABI_VERSION of the guest in the snapshot. */
  abiVersion: number;
  /** The runtime build that made it (worker/src/runtime-identity.ts). */
  runtimeId?: string;
}

export type ArchiveKind = { kind: 'base' } | { kind: 'function'; base: Digest; function: { name: string; version?: string | number; bundleDigest: Digest } };

export interface MaterializedSnapshot {
  platform: 'kvm' | 'ptrace';
  memoryBytes: number;
  /** Directory with cpu.bin, memory.img, pages.bin, ready for a restore. */
  dir: string;
  /** The base layer's memory file when the snapshot is a diff over a base. */
  baseMemoryPath?: string;
  functionName?: string;
}

/** The page runs of a layered pages.bin (checked whole: magic, length, CRC, version, runs). */
export function readPageRuns(pagesBin: Buffer): Array<[number, number]> {
  return decodePagesFile(pagesBin).runs;
}

/** Stores a VMM snapshot directory; returns the digest of its state file. */
export async function archiveSnapshot(store: SnapshotStore, snap: VmSnapshotDir, what: ArchiveKind): Promise<Digest> {
  const [cpu, layout] = await Promise.all([readFile(join(snap.dir, 'cpu.bin')), readFile(join(snap.dir, 'pages.bin'))]);
  const pages = decodePagesFile(layout);
  const envelope = decodeCpuEnvelope(cpu);
  // The two files of one snapshot carry one id; the VMM wrote them together, so anything else means
  // the directory mixes snapshots (a copy gone wrong) and must not be stored.
  if (envelope.id !== pages.id || envelope.platform !== snap.platform || pages.memoryBytes !== snap.memoryBytes || envelope.memoryBytes !== snap.memoryBytes) {
    throw new SnapshotError(
      `${snap.dir} mixes snapshot files: cpu.bin (${envelope.platform}, id ${envelope.id}, ${envelope.memoryBytes} bytes) and pages.bin (id ${pages.id}, ${pages.memoryBytes} bytes) for a ${snap.platform} VM of ${snap.memoryBytes} bytes; take the snapshot again`,
    );
  }
  const runs = pages.runs;
  const memoryPath = join(snap.dir, 'memory.img');
  const memoryDigest = await store.putBlob(memoryPath);
  const payload: StatePayloadInput = {
    platform: snap.platform,
    abiVersion: snap.abiVersion,
    ...(snap.runtimeId !== undefined ? { runtimeId: snap.runtimeId } : {}),
    memoryBytes: snap.memoryBytes,
    createdAt: new Date().toISOString(),
    kind: what.kind,
    cpu: cpu.toString('base64'),
    layout: layout.toString('base64'),
    memory: { layers: [] },
  };
  if (what.kind === 'base') {
    payload.memory.layers.push({ role: 'base', digest: memoryDigest, bytes: snap.memoryBytes, pages: pages.dataPages });
  } else {
    const base = await store.loadSnapshot(what.base, { verifyMemory: 'size' });
    payload.base = what.base;
    payload.function = what.function;
    payload.memory.layers.push(base.state.memory.layers[0]!, { role: 'diff', digest: memoryDigest, bytes: snap.memoryBytes, pages: pages.diffPages, runs });
  }
  return store.putSnapshot(encodeStateFile(payload));
}

/**
 * Lays a stored snapshot out under workDir/<digest> for a restore (idempotent: an existing complete
 * directory is reused). The memory file is linked, never copied.
 */
export async function materializeSnapshot(store: SnapshotStore, digest: Digest, workDir: string): Promise<MaterializedSnapshot> {
  const loaded = await store.loadSnapshot(digest);
  const { state, layers } = loaded;
  const dir = join(workDir, digest.replace('sha256:', ''));
  const top = layers[layers.length - 1]!;
  if (!existsSync(join(dir, 'memory.img'))) {
    // Built beside and renamed into place, so a concurrent restore never sees half a directory.
    const staging = `${dir}.${process.pid}.${Date.now()}.tmp`;
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, 'cpu.bin'), Buffer.from(state.cpu, 'base64'));
    await writeFile(join(staging, 'pages.bin'), Buffer.from(state.layout, 'base64'));
    await linkOrSymlink(top.path, join(staging, 'memory.img'));
    await rename(staging, dir).catch(async (err: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true });
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  }
  return {
    platform: state.platform,
    memoryBytes: state.memoryBytes,
    dir,
    ...(layers.length > 1 ? { baseMemoryPath: layers[0]!.path } : {}),
    ...(state.function ? { functionName: state.function.name } : {}),
  };
}

async function linkOrSymlink(target: string, path: string): Promise<void> {
  try {
    await link(target, path);
  } catch {
    await symlink(target, path); // across file systems
  }
}
