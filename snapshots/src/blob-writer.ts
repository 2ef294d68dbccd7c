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

/**
 * sha256 of content that arrives as (offset, bytes) pieces in increasing offset order, the gaps
 * between them counting as zeros: the digest of a sparse file, without reading its holes back.
 */
export class SparseDigest {
  private readonly hash: Hash = createHash('sha256');
  position = 0;

  update(offset: number, data: Uint8Array): void {
    if (offset < this.position) throw new SnapshotError(`blob pieces must come in order (${offset} < ${this.position})`);
    this.zeros(offset - this.position);
    this.hash.update(data);
    this.position = offset + data.byteLength;
  }

  digest(size: number): Digest {
    if (size < this.position) throw new SnapshotError(`blob size ${size} is less than the ${this.position} bytes written`);
    this.zeros(size - this.position);
    return `sha256:${this.hash.digest('hex')}`;
  }

  private zeros(count: number): void {
    for (let left = count; left > 0; left -= ZEROS.length) this.hash.update(ZEROS.subarray(0, Math.min(left, ZEROS.length)));
  }
}

export class BlobWriter {
  private readonly hash = new SparseDigest();
  private done = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly tempPath: string,
    private readonly finalPath: string,
    private readonly verify: boolean,
  ) {}

  /**
   * verify: hash what is written and compare at commit (default). Only a caller that hashed the
   * very bytes it is about to write (putBlob of a buffer) turns it off, to avoid hashing twice.
   */
  static async create(finalPath: string, options: { verify?: boolean } = {}): Promise<BlobWriter> {
    await mkdir(dirname(finalPath), { recursive: true });
    // A unique name per writer: concurrent writers of the same content never share a temp file.
    const tempPath = `${finalPath}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    const fh = await open(tempPath, 'wx', 0o444);
    return new BlobWriter(fh, tempPath, finalPath, options.verify ?? true);
  }

  /** Writes `data` at `offset` (≥ everything written before); the gap before it stays a hole. */
  async write(offset: number, data: Uint8Array): Promise<void> {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.verify) this.hash.update(offset, buf);
    else if (offset < this.hash.position) throw new SnapshotError(`blob writes must not go backwards (${offset} < ${this.hash.position})`);
    else this.hash.position = offset + buf.length;
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
  async commit(size: number, expected: Digest): Promise<Digest> {
    try {
      if (size < this.hash.position) throw new SnapshotError(`blob size ${size} is less than the ${this.hash.position} bytes written`);
      const digest = this.verify ? this.hash.digest(size) : expected;
      if (digest !== expected) {
        throw new SnapshotCorruptError(
          `content hashes to ${digest}, not the expected ${expected}: the source changed or was damaged while being stored; store it again`,
        );
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
