/**
 * The content-addressed snapshot store on one machine's disk.
 *
 *   dir/blobs/sha256/ab/cdef…   every blob, named by the sha256 of its content (state files and
 *                               memory layers alike); memory layers are sparse and uncompressed so
 *                               the VMM can mmap them MAP_PRIVATE and every VM of a function shares
 *                               one copy in the page cache
 *   dir/refs/<name>             "sha256:…\n": a function version (or the base) and its snapshot
 *
 * Writers never take a lock: blobs and refs are written to a temp file, fsync'd and renamed, so
 * concurrent writers and crashes leave whole files or nothing. gc is made safe against concurrent
 * writers by a grace period (see gc()).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, readdir, rename, rm, stat, utimes, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobWriter, TEMP_SUFFIX, syncDir } from './blob-writer.js';
import { READ_CHUNK, digestHex, hashFile, isDigest, sha256, type Digest } from './digest.js';
import { SnapshotCorruptError, SnapshotError, SnapshotMemoryFileError, SnapshotNotFoundError } from './errors.js';
import { decodeStateFile, type FormatVersion, type MemoryLayer, type StatePayload } from './state-file.js';

/** Long enough for any putSnapshot → setRef sequence; short enough that garbage doesn't pile up. */
export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
const TRASH_SUFFIX = '.gc';
const BLOB_NAME = /^[0-9a-f]{62}$/;

export interface StoreOptions {
  /** gc leaves alone any blob or temp file modified within this many milliseconds. */
  graceMs?: number;
}

export interface LoadedLayer extends MemoryLayer {
  /** Absolute path of the verified layer file, ready to mmap MAP_PRIVATE. */
  path: string;
}

export interface LoadedSnapshot {
  digest: Digest;
  formatVersion: FormatVersion;
  state: StatePayload;
  statePath: string;
  layers: LoadedLayer[];
}

export interface LoadOptions {
  /**
   * full: rehash every memory layer; cached (default): rehash a layer file the first time this
   * store instance sees it (same inode, size and mtime) and trust it after that; size: only check
   * that each layer file is exactly memoryBytes long (the SIGBUS guard, always done).
   */
  verifyMemory?: 'full' | 'cached' | 'size';
}

export interface GcOptions {
  graceMs?: number;
  now?: number;
  /**
   * Roots besides the refs: snapshots kept with their closure (the versions a registry holds)
   * and plain blobs kept as they are (their bundles).
   */
  keep?: { snapshots?: Iterable<string>; blobs?: Iterable<string> };
}

export interface DiskUsage {
  /** Blobs in the store (state files, memory layers, bundles). */
  blobs: number;
  /** Bytes they hold on disk (allocated blocks: memory layers are sparse). */
  bytes: number;
}

export interface GcReport {
  /** Digests of the blobs removed. */
  removed: Digest[];
  /** Leftover temp files (crashed or abandoned writes) removed, as paths. */
  removedTempFiles: string[];
  /** Refs whose snapshot is not in the store (they keep nothing alive). */
  danglingRefs: string[];
  /** Blobs reachable from refs (and the roots given in keep), all kept. */
  reachable: number;
  /** Unreachable blobs kept because they were modified within the grace period. */
  deferred: number;
}

export class SnapshotStore {
  readonly graceMs: number;
  private readonly blobRoot: string;
  private readonly refRoot: string;
  /** digest → file identity that hashed correctly (see LoadOptions.verifyMemory). */
  private readonly verified = new Map<Digest, string>();

  constructor(
    readonly dir: string,
    options: StoreOptions = {},
  ) {
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.blobRoot = join(dir, 'blobs', 'sha256');
    this.refRoot = join(dir, 'refs');
  }

  /** Where the blob with this digest lives (or would live); never a temp file. */
  blobPath(digest: Digest): string {
    const hex = digestHex(digest);
    return join(this.blobRoot, hex.slice(0, 2), hex.slice(2));
  }

  /**
   * Stores bytes, or the content of a file (read twice: hashed first so that content already in
   * the store is not copied again, then copied while hashed a second time so that a file that
   * changes in between is refused rather than stored under the wrong name).
   */
  async putBlob(source: Uint8Array | string): Promise<Digest> {
    if (typeof source !== 'string') {
      const digest = sha256(source);
      if (await this.touch(digest)) return digest;
      const writer = await BlobWriter.create(this.blobPath(digest), { verify: false });
      try {
        await writer.write(0, source);
      } catch (err) {
        await writer.abort();
        throw err;
      }
      return writer.commit(source.byteLength, digest);
    }
    const { digest, bytes } = await hashFile(source);
    if (await this.touch(digest)) return digest;
    const writer = await BlobWriter.create(this.blobPath(digest));
    const fh = await open(source, 'r');
    try {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      for (let offset = 0; ; ) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        await writer.write(offset, buf.subarray(0, bytesRead));
        offset += bytesRead;
      }
    } catch (err) {
      await writer.abort();
      throw err;
    } finally {
      await fh.close();
    }
    return writer.commit(bytes, digest);
  }

  /**
   * A writer for a blob with a known digest (the transfer receiver uses it), or undefined if the
   * store has that blob already (its mtime is refreshed, as putBlob does).
   */
  async openBlobWriter(digest: Digest): Promise<BlobWriter | undefined> {
    if (await this.touch(digest)) return undefined;
    return BlobWriter.create(this.blobPath(digest));
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    return (await statOrUndefined(this.blobPath(digest))) !== undefined;
  }

  /** The path of a stored blob; throws SnapshotNotFoundError if there is none. */
  async getBlobPath(digest: Digest): Promise<string> {
    const path = this.blobPath(digest);
    if ((await statOrUndefined(path)) === undefined) throw notFound(digest);
    return path;
  }

  /** Rehashes a blob; throws SnapshotCorruptError if its content no longer matches its name. */
  async verifyBlob(digest: Digest): Promise<void> {
    const path = await this.getBlobPath(digest);
    const actual = await hashFile(path);
    if (actual.digest !== digest) {
      throw new SnapshotCorruptError(
        `blob ${digest} is damaged (its ${actual.bytes} bytes hash to ${actual.digest}): delete it and store or fetch the snapshot again`,
      );
    }
  }

  /** Reads a small blob whole, checking its digest (state files; not for memory layers). */
  async readBlob(digest: Digest): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(digest));
    } catch (err) {
      if (isNotFound(err)) throw notFound(digest, err);
      throw err;
    }
    const actual = sha256(bytes);
    if (actual !== digest) {
      throw new SnapshotCorruptError(`blob ${digest} is damaged (its ${bytes.length} bytes hash to ${actual}): the file is damaged; take the snapshot again`);
    }
    return bytes;
  }

  /**
   * Stores a snapshot: its memory files first, the state file last, so a state file in the store
   * always has its layers. Every memory file must be a layer the state file names; a layer not
   * given must already be in the store (a function snapshot's base layer usually is).
   */
  async putSnapshot(stateFile: Uint8Array, memory: ReadonlyArray<Uint8Array | string> = []): Promise<Digest> {
    return reviving(() => this.putSnapshotOnce(stateFile, memory));
  }

  private async putSnapshotOnce(stateFile: Uint8Array, memory: ReadonlyArray<Uint8Array | string>): Promise<Digest> {
    const { state } = decodeStateFile(stateFile, 'the state file to store');
    const named = new Set(state.memory.layers.map((l) => l.digest));
    for (const [i, source] of memory.entries()) {
      const digest = await this.putBlob(source);
      if (!named.has(digest)) {
        throw new SnapshotMemoryFileError(
          `memory file ${i} (${typeof source === 'string' ? source : 'bytes'}) hashes to ${digest}, which no layer of the state file names: pass the memory files the snapshot was taken with`,
          'unnamed',
        );
      }
    }
    await this.checkLayers(state, 'size', true);
    if (state.base !== undefined) await this.checkBase(state, state.base);
    return this.putBlob(stateFile);
  }

  /** Decodes a stored snapshot and verifies its memory layers; refuses anything incomplete. */
  async loadSnapshot(digest: Digest, options: LoadOptions = {}): Promise<LoadedSnapshot> {
    const bytes = await this.readBlob(digest);
    const { formatVersion, state } = decodeStateFile(bytes, `snapshot ${digest}`);
    const layers = await this.checkLayers(state, options.verifyMemory ?? 'cached', false);
    return { digest, formatVersion, state, statePath: this.blobPath(digest), layers };
  }

  /**
   * Points a ref at a snapshot. The snapshot's whole closure must be in the store; touching it
   * first is what makes a concurrent gc keep it (see gc()).
   */
  async setRef(name: string, digest: Digest): Promise<void> {
    const file = refFile(name);
    await reviving(async () => {
      const { states, memory } = await this.closureOf(digest);
      for (const d of [...states, ...memory]) {
        if (!(await this.touch(d))) throw notFound(d);
      }
    });
    await mkdir(this.refRoot, { recursive: true });
    const temp = join(this.refRoot, `.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    const fh = await open(temp, 'wx');
    try {
      await fh.writeFile(`${digest}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, join(this.refRoot, file));
    await syncDir(this.refRoot);
  }

  async getRef(name: string): Promise<Digest | undefined> {
    const path = join(this.refRoot, refFile(name));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const digest = text.trim();
    if (!isDigest(digest)) throw new SnapshotCorruptError(`ref "${name}" (${path}) does not hold a digest: set it again`);
    return digest;
  }

  async deleteRef(name: string): Promise<boolean> {
    const path = join(this.refRoot, refFile(name));
    const existed = (await statOrUndefined(path)) !== undefined;
    await rm(path, { force: true });
    if (existed) await syncDir(this.refRoot);
    return existed;
  }

  async listRefs(): Promise<Array<{ name: string; digest: Digest }>> {
    const refs: Array<{ name: string; digest: Digest }> = [];
    for (const file of (await readdirOrEmpty(this.refRoot)).sort()) {
      if (file.startsWith('.')) continue; // temp files of setRef
      const name = decodeURIComponent(file);
      const digest = await this.getRef(name);
      if (digest !== undefined) refs.push({ name, digest });
    }
    return refs;
  }

  /**
   * Removes every blob that no ref reaches (a state file reaches its memory layers and its base
   * snapshot) and temp files left by crashed writers.
   *
   * Safety against concurrent writers is a grace period, not a lock: nothing modified within
   * graceMs is removed, and writers refresh the mtime of content they reuse (putBlob of existing
   * content, setRef of an older snapshot). A lock file would have to be recovered by hand, or by
   * guessing from pids, after a crash, and Node has no flock; a grace period needs no recovery. To
   * close the race between gc's look at a blob and its removal, gc first renames the blob aside,
   * looks at its mtime again, and puts it back if a writer touched it meanwhile; a writer whose
   * touch finds the name gone writes the blob afresh (putBlob) or refuses (setRef).
   */
  async gc(options: GcOptions = {}): Promise<GcReport> {
    const cutoff = (options.now ?? Date.now()) - (options.graceMs ?? this.graceMs);
    const report: GcReport = { removed: [], removedTempFiles: [], danglingRefs: [], reachable: 0, deferred: 0 };
    const reachable = new Set<Digest>();
    const roots: Array<{ name: string; digest: Digest }> = await this.listRefs();
    for (const digest of options.keep?.snapshots ?? []) if (isDigest(digest)) roots.push({ name: `(kept) ${digest}`, digest });
    for (const digest of options.keep?.blobs ?? []) if (isDigest(digest)) reachable.add(digest);
    for (const { name, digest } of roots) {
      if (!(await this.hasBlob(digest))) {
        if (!name.startsWith('(kept)')) report.danglingRefs.push(name);
        continue;
      }
      const { states, memory } = await this.closureOf(digest, { allowMissing: true });
      for (const d of [...states, ...memory]) reachable.add(d);
    }
    report.reachable = reachable.size;
    for (const shard of await readdirOrEmpty(this.blobRoot)) {
      const shardDir = join(this.blobRoot, shard);
      for (const name of await readdirOrEmpty(shardDir)) {
        const path = join(shardDir, name);
        if (name.endsWith(TRASH_SUFFIX)) {
          await this.recoverTrash(path);
        } else if (name.endsWith(TEMP_SUFFIX)) {
          const st = await statOrUndefined(path);
          if (st !== undefined && st.mtimeMs < cutoff) {
            await rm(path, { force: true });
            report.removedTempFiles.push(path);
          }
        } else if (BLOB_NAME.test(name)) {
          const digest: Digest = `sha256:${shard}${name}`;
          if (reachable.has(digest)) continue;
          if (await this.removeIfOld(path, cutoff)) report.removed.push(digest);
          else report.deferred++;
        }
      }
    }
    for (const name of await readdirOrEmpty(this.refRoot)) {
      const path = join(this.refRoot, name);
      const st = name.endsWith(TEMP_SUFFIX) ? await statOrUndefined(path) : undefined;
      if (st !== undefined && st.mtimeMs < cutoff) {
        await rm(path, { force: true });
        report.removedTempFiles.push(path);
      }
    }
    return report;
  }

  /** What the store holds on disk: every blob, counted by its allocated blocks. */
  async diskUsage(): Promise<DiskUsage> {
    const usage: DiskUsage = { blobs: 0, bytes: 0 };
    for (const shard of await readdirOrEmpty(this.blobRoot)) {
      for (const name of await readdirOrEmpty(join(this.blobRoot, shard))) {
        if (!BLOB_NAME.test(name)) continue;
        const st = await statOrUndefined(join(this.blobRoot, shard, name));
        if (st === undefined) continue;
        usage.blobs++;
        usage.bytes += st.blocks * 512;
      }
    }
    return usage;
  }

  /**
   * The blobs a snapshot needs: its state file and memory layers, then its base's, and so on
   * (states root first). With allowMissing, a missing state file ends the walk instead of throwing.
   */
  async closureOf(digest: Digest, options: { allowMissing?: boolean } = {}): Promise<{ states: Digest[]; memory: Digest[] }> {
    const states: Digest[] = [];
    const memory = new Set<Digest>();
    for (let next: Digest | undefined = digest; next !== undefined; ) {
      if (states.includes(next)) throw new SnapshotCorruptError(`snapshot ${digest} has a cycle of base snapshots`);
      if (options.allowMissing && !(await this.hasBlob(next))) break;
      // A damaged state file throws here: gc must not guess what it referenced and delete it.
      const { state } = decodeStateFile(await this.readBlob(next), `snapshot ${next}`);
      states.push(next);
      for (const layer of state.memory.layers) memory.add(layer.digest);
      next = state.base;
    }
    return { states, memory: [...memory] };
  }

  private async checkLayers(state: StatePayload, verify: 'full' | 'cached' | 'size', touch: boolean): Promise<LoadedLayer[]> {
    const layers: LoadedLayer[] = [];
    for (const [i, layer] of state.memory.layers.entries()) {
      const path = this.blobPath(layer.digest);
      const what = `memory layer ${i} (${layer.role}, ${layer.digest})`;
      const st = await statOrUndefined(path);
      if (st === undefined) {
        throw new SnapshotMemoryFileError(`${what} is not in the store: store the snapshot with its memory files, or fetch it again`, 'missing');
      }
      // The SIGBUS guard: a page of a MAP_PRIVATE mapping past the end of its file kills the VMM.
      if (st.size !== state.memoryBytes) {
        throw new SnapshotMemoryFileError(
          `${what} is ${st.size} bytes but the guest has ${state.memoryBytes}: mapping it could crash the VMM with SIGBUS, so it is refused; take the snapshot again`,
          'size',
        );
      }
      const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
      if (verify === 'full' || (verify === 'cached' && this.verified.get(layer.digest) !== identity)) {
        const actual = await hashFile(path);
        if (actual.digest !== layer.digest) {
          throw new SnapshotMemoryFileError(`${what} is damaged: its content hashes to ${actual.digest}; take the snapshot again`, 'digest');
        }
        this.verified.set(layer.digest, identity);
      }
      if (touch) await this.touch(layer.digest);
      layers.push({ ...layer, path });
    }
    return layers;
  }

  private async checkBase(state: StatePayload, base: Digest): Promise<void> {
    if (!(await this.touch(base))) throw notFound(base);
    const { state: baseState } = decodeStateFile(await this.readBlob(base), `base snapshot ${base}`);
    const baseLayer = baseState.memory.layers[0]!;
    if (baseState.kind !== 'base' || baseState.memoryBytes !== state.memoryBytes || baseLayer.digest !== state.memory.layers[0]!.digest) {
      throw new SnapshotError(
        `the function snapshot does not layer on base snapshot ${base} (different kind, memory size or base layer): take it on that base, or name its real base`,
      );
    }
  }

  /** Refreshes a blob's mtime (so gc's grace period covers it); false if it is not there. */
  private async touch(digest: Digest): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(this.blobPath(digest), now, now);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async removeIfOld(path: string, cutoff: number): Promise<boolean> {
    const st = await statOrUndefined(path);
    if (st === undefined || st.mtimeMs >= cutoff) return false;
    const trash = `${path}.${randomBytes(6).toString('hex')}${TRASH_SUFFIX}`;
    try {
      await rename(path, trash);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    const after = await stat(trash);
    if (after.mtimeMs >= cutoff) {
      // A writer touched it between our two looks: it is in use again.
      await rename(trash, path);
      return false;
    }
    await rm(trash, { force: true });
    return true;
  }

  /** A gc that crashed between rename-aside and removal: put the blob back, let this gc decide. */
  private async recoverTrash(trash: string): Promise<void> {
    const path = trash.replace(/\.[0-9a-f]{12}\.gc$/, '');
    if ((await statOrUndefined(path)) === undefined) await rename(trash, path);
    else await rm(trash, { force: true });
  }
}

/**
 * gc renames an old unreferenced blob aside for a moment before it decides (see gc()), so a
 * writer reviving exactly that content can find it missing for those microseconds. Writers try
 * again a few times; a blob that is really gone is still reported as gone.
 */
async function reviving<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      const missing = err instanceof SnapshotNotFoundError || (err instanceof SnapshotMemoryFileError && err.reason === 'missing');
      if (!missing || attempt === 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

function refFile(name: string): string {
  if (name.length === 0 || name.length > 200 || name.startsWith('.')) {
    throw new SnapshotError(`"${name}" is not a valid ref name: use 1–200 characters, not starting with "."`);
  }
  // Encoded so any function name or version string is one flat file name ("/" becomes %2F).
  return encodeURIComponent(name);
}

function notFound(digest: string, cause?: unknown): SnapshotNotFoundError {
  return new SnapshotNotFoundError(`snapshot blob ${digest} is not in the store (never stored, or garbage-collected): store or fetch the snapshot again`, {
    cause,
  });
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
