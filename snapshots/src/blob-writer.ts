/**
 * Writes one blob the crash-safe way: into a temp file beside its final name, sparse (all-zero
 * pages become holes, so a 64 MiB guest image with 1 MiB touched takes 1 MiB of disk), hashed as it
 * goes, fsync'd, checked against the digest it must have, then renamed into place and the directory
 * fsync'd. A crash at any point leaves either no blob or a whole one, plus at worst a *.tmp file
 * that nothing reads and gc removes.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PAGE_SIZE, isZeroPage, type Digest } from './digest.js';
import { SnapshotCorruptError, SnapshotError } from './errors.js';

export const TEMP_SUFFIX = '.tmp';
const ZEROS = Buffer.alloc(1 << 20);

export class BlobWriter {
  private readonly hash: Hash = createHash('sha256');
  /** Bytes hashed so far; writes must come in increasing offset order so the hash can stream. */
  private position = 0;
  private done = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly tempPath: string,
    private readonly finalPath: string,
  ) {}

  static async create(finalPath: string): Promise<BlobWriter> {
    await mkdir(dirname(finalPath), { recursive: true });
    // A unique name per writer: concurrent writers of the same content never share a temp file.
    const tempPath = `${finalPath}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    const fh = await open(tempPath, 'wx', 0o444);
    return new BlobWriter(fh, tempPath, finalPath);
  }

  /** Writes `data` at `offset` (≥ everything written before); the gap before it stays a hole. */
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (offset < this.position) throw new SnapshotError(`blob writes must not go backwards (${offset} < ${this.position})`);
    this.hashZeros(offset - this.position);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.hash.update(buf);
    this.position = offset + buf.length;
    // Skip whole zero pages (page-aligned in the file) so they stay holes; write the runs between.
    let runStart = -1;
    for (let at = 0; at < buf.length; ) {
      const pageEnd = Math.min(buf.length, at + PAGE_SIZE - ((offset + at) % PAGE_SIZE));
      const zero = pageEnd - at === PAGE_SIZE && isZeroPage(buf, at);
      if (zero && runStart >= 0) {
        await this.writeAll(buf.subarray(runStart, at), offset + runStart);
        runStart = -1;
      } else if (!zero && runStart < 0) {
        runStart = at;
      }
      at = pageEnd;
    }
    if (runStart >= 0) await this.writeAll(buf.subarray(runStart), offset + runStart);
  }

  /**
   * Sets the final length (trailing holes included), checks the content against `expected`, makes
   * it durable and renames it into place. Returns the digest of what was written.
   */
  async commit(size: number, expected?: Digest): Promise<Digest> {
    if (size < this.position) throw new SnapshotError(`blob size ${size} is less than the ${this.position} bytes written`);
    this.hashZeros(size - this.position);
    this.position = size;
    const digest: Digest = `sha256:${this.hash.digest('hex')}`;
    try {
      if (expected !== undefined && digest !== expected) {
        throw new SnapshotCorruptError(`content hashes to ${digest}, not the expected ${expected}: the source changed or was damaged while being stored; store it again`);
      }
      await this.fh.truncate(size);
      await this.fh.sync();
      await this.fh.close();
      this.done = true;
      // rename(2) is atomic: readers see no file or the whole file. If a concurrent writer of the
      // same content got there first, this replaces it with identical bytes, which is harmless.
      await rename(this.tempPath, this.finalPath);
      await syncDir(dirname(this.finalPath));
      return digest;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => {});
    }
    await rm(this.tempPath, { force: true });
  }

  private hashZeros(count: number): void {
    for (let left = count; left > 0; left -= ZEROS.length) this.hash.update(ZEROS.subarray(0, Math.min(left, ZEROS.length)));
  }

  private async writeAll(buf: Buffer, position: number): Promise<void> {
    for (let off = 0; off < buf.length; ) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, position + off);
      off += bytesWritten;
    }
  }
}

/** Makes a rename or create in `dir` durable: without it a crash can forget the new name. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
