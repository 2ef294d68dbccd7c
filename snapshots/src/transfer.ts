/**
 * Moving a snapshot between machines (a NATS object store later): one stream that carries the
 * blobs of a snapshot's closure, each as snappy-compressed runs of non-zero pages. Guest memory is
 * mostly zero pages; they are not sent at all (measure.ts: whole-file snappy spends most of its
 * time and output on zeros), and what is sent compresses with snappy where that pays.
 *
 *   pack   := "FNSNAPTX" | major u16 | minor u16 | root digest (32) | entry* | 0x00
 *   entry  := kind u8 (1 memory, 2 state) | digest (32) | size u64 | record* | end record
 *   record := offset u64 | rawLength u32 | storedLength u32 | codec u8 (0 raw, 1 snappy) | data
 *   end record := rawLength 0 (offset, storedLength and codec 0)
 *
 * Memory blobs come first, state files last (root last), so the receiver can write memory as it
 * arrives and state files after, and a state file never sits in a store without its layers.
 * Every blob is verified against its digest on arrival; nothing trusts the sender.
 */
import { Readable } from 'node:stream';
import { open } from 'node:fs/promises';
import { compressSync, uncompressSync } from 'snappy';
import { SparseDigest } from './blob-writer.js';
import { PAGE_SIZE, isZeroPage, sha256, type Digest } from './digest.js';
import { SnapshotCorruptError, SnapshotError, SnapshotTransferError } from './errors.js';
import type { SnapshotStore } from './store.js';

const PACK_MAGIC = Buffer.from('FNSNAPTX', 'latin1');
const PACK_VERSION = { major: 1, minor: 0 };
const KIND_MEMORY = 1;
const KIND_STATE = 2;
const CODEC_RAW = 0;
const CODEC_SNAPPY = 1;
/** One record holds at most this many bytes: bounds memory on both sides. */
const RECORD_MAX = 1 << 20;
const RECORD_HEADER = 8 + 4 + 4 + 1;
/** A state file is a few KB; anything near this is a malformed pack, not a snapshot. */
const STATE_MAX = 16 << 20;
const SIZE_MAX = 2 ** 40;

export interface PackOptions {
  /** Blobs the receiver already has (typically the base snapshot's): left out of the pack. */
  have?: Iterable<Digest>;
}

export interface UnpackResult {
  digest: Digest;
  /** Blobs written into the store. */
  received: Digest[];
  /** Blobs in the pack that the store already had (verified, not rewritten). */
  alreadyPresent: Digest[];
}

/** The snapshot and everything it needs, minus `have`, as a stream of pack bytes. */
export async function packForTransfer(store: SnapshotStore, digest: Digest, options: PackOptions = {}): Promise<Readable> {
  const have = new Set(options.have ?? []);
  const { states, memory } = await store.closureOf(digest);
  const entries = [
    ...memory.filter((d) => !have.has(d)).map((d) => ({ kind: KIND_MEMORY, digest: d })),
    // The root's state file always travels: it is what the receiver checks the pack against.
    ...states
      .filter((d) => d === digest || !have.has(d))
      .reverse()
      .map((d) => ({ kind: KIND_STATE, digest: d })),
  ];
  for (const e of entries) await store.getBlobPath(e.digest); // fail now, not mid-stream
  return Readable.from(packEntries(store, digest, entries), { objectMode: false });
}

async function* packEntries(store: SnapshotStore, root: Digest, entries: Array<{ kind: number; digest: Digest }>): AsyncGenerator<Buffer> {
  const header = Buffer.alloc(PACK_MAGIC.length + 4 + 32);
  PACK_MAGIC.copy(header);
  header.writeUInt16LE(PACK_VERSION.major, 8);
  header.writeUInt16LE(PACK_VERSION.minor, 10);
  digestBytes(root).copy(header, 12);
  yield header;
  for (const { kind, digest } of entries) {
    const fh = await open(await store.getBlobPath(digest), 'r');
    try {
      const { size } = await fh.stat();
      const entryHeader = Buffer.alloc(1 + 32 + 8);
      entryHeader.writeUInt8(kind, 0);
      digestBytes(digest).copy(entryHeader, 1);
      entryHeader.writeBigUInt64LE(BigInt(size), 33);
      yield entryHeader;
      const buf = Buffer.allocUnsafe(RECORD_MAX);
      for (let offset = 0; offset < size; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(RECORD_MAX, size - offset), offset);
        if (bytesRead === 0) throw new SnapshotError(`blob ${digest} shrank while being packed`);
        yield* encodePageRuns(buf.subarray(0, bytesRead), offset);
        offset += bytesRead;
      }
      yield Buffer.alloc(RECORD_HEADER); // end record
    } finally {
      await fh.close();
    }
  }
  yield Buffer.alloc(1); // end of pack
}

/** The pack records for one chunk of a blob at `offset`: its non-zero page runs, compressed. */
export function* encodePageRuns(chunk: Buffer, offset: number): Generator<Buffer> {
  for (const run of nonZeroRuns(chunk)) yield encodeRecord(offset + run.start, run.bytes);
}

/** Runs of whole non-zero pages (a trailing partial page counts as one). */
function* nonZeroRuns(chunk: Buffer): Generator<{ start: number; bytes: Buffer }> {
  let start = -1;
  for (let at = 0; at < chunk.length; at += PAGE_SIZE) {
    const zero = isZeroPage(chunk, at, Math.min(PAGE_SIZE, chunk.length - at));
    if (!zero && start < 0) start = at;
    if (zero && start >= 0) {
      yield { start, bytes: chunk.subarray(start, at) };
      start = -1;
    }
  }
  if (start >= 0) yield { start, bytes: chunk.subarray(start) };
}

function encodeRecord(offset: number, raw: Buffer): Buffer {
  const compressed = compressSync(raw);
  // Incompressible pages (already-compressed data, random bytes) go raw: never pay to inflate.
  const useSnappy = compressed.length < raw.length;
  const data = useSnappy ? compressed : raw;
  const head = Buffer.alloc(RECORD_HEADER);
  head.writeBigUInt64LE(BigInt(offset), 0);
  head.writeUInt32LE(raw.length, 8);
  head.writeUInt32LE(data.length, 12);
  head.writeUInt8(useSnappy ? CODEC_SNAPPY : CODEC_RAW, 16);
  return Buffer.concat([head, data]);
}

/**
 * Reads a pack into the store, verifying every blob against its digest, and returns once the
 * whole snapshot loads from the store. A pack that is cut short or damaged leaves no state file
 * behind (memory blobs that did verify stay, unreferenced, for gc).
 */
export async function unpackFromTransfer(store: SnapshotStore, source: Uint8Array | AsyncIterable<Uint8Array>): Promise<UnpackResult> {
  const reader = new ByteReader(source instanceof Uint8Array ? [source] : source);
  const header = await reader.read(PACK_MAGIC.length + 4 + 32);
  if (!header.subarray(0, 8).equals(PACK_MAGIC)) throw new SnapshotTransferError('not an fn snapshot pack (bad magic): check what was sent');
  const major = header.readUInt16LE(8);
  if (major !== PACK_VERSION.major) {
    throw new SnapshotTransferError(`pack format ${major}.${header.readUInt16LE(10)}; this build reads ${PACK_VERSION.major}.x: send it from a matching build`);
  }
  const root = digestFromBytes(header.subarray(12));
  const result: UnpackResult = { digest: root, received: [], alreadyPresent: [] };
  const states: Array<{ digest: Digest; bytes: Buffer }> = [];
  for (;;) {
    const kind = (await reader.read(1)).readUInt8(0);
    if (kind === 0) break;
    if (kind !== KIND_MEMORY && kind !== KIND_STATE) throw new SnapshotTransferError(`pack entry of unknown kind ${kind}: the pack is damaged; send it again`);
    const entry = await reader.read(32 + 8);
    const digest = digestFromBytes(entry.subarray(0, 32));
    const size = Number(entry.readBigUInt64LE(32));
    if (size > (kind === KIND_STATE ? STATE_MAX : SIZE_MAX))
      throw new SnapshotTransferError(`pack entry ${digest} claims ${size} bytes: the pack is damaged; send it again`);
    if (kind === KIND_STATE) {
      const bytes = Buffer.alloc(size);
      await readRecords(reader, size, { write: async (off, data) => void data.copy(bytes, off) });
      if (sha256(bytes) !== digest) throw damaged(digest);
      states.push({ digest, bytes });
      continue;
    }
    // A blob the store has is still read through and checked, but not written again.
    const writer = await store.openBlobWriter(digest);
    const sink = writer ?? new CheckOnly();
    try {
      await readRecords(reader, size, sink);
      // A digest mismatch is the pack's fault; an I/O error (disk full) is reported as it is.
      await sink.commit(size, digest).catch((err: unknown) => Promise.reject(err instanceof SnapshotCorruptError ? damaged(digest, err) : err));
    } catch (err) {
      await writer?.abort();
      throw err;
    }
    (writer ? result.received : result.alreadyPresent).push(digest);
  }
  if (states.at(-1)?.digest !== root) {
    throw new SnapshotTransferError(`the pack announces snapshot ${root} but does not end with its state file: the pack is damaged; send it again`);
  }
  // Memory is all in; now the state files, bases first (the pack sends them in that order).
  // putSnapshot refuses one whose layers or base are not in the store, so none is left dangling.
  for (const { digest, bytes } of states) {
    const had = await store.hasBlob(digest);
    if ((await store.putSnapshot(bytes)) !== digest) throw damaged(digest);
    (had ? result.alreadyPresent : result.received).push(digest);
  }
  // Every blob that arrived was checked against its digest above; this checks the closure is whole.
  await store.loadSnapshot(root, { verifyMemory: 'size' });
  return result;
}

interface RecordSink {
  write(offset: number, data: Buffer): Promise<void>;
}

/** The sink for a blob the store already has: hashes what arrives, writes nothing. */
class CheckOnly implements RecordSink {
  private readonly hash = new SparseDigest();
  async write(offset: number, data: Buffer): Promise<void> {
    this.hash.update(offset, data);
  }
  async commit(size: number, expected: Digest): Promise<void> {
    if (this.hash.digest(size) !== expected) throw damaged(expected);
  }
}

/** Decodes one entry's records into `sink` (which checks the digest), up to the end record. */
async function readRecords(reader: ByteReader, size: number, sink: RecordSink): Promise<void> {
  let next = 0;
  for (;;) {
    const head = await reader.read(RECORD_HEADER);
    const offset = Number(head.readBigUInt64LE(0));
    const rawLength = head.readUInt32LE(8);
    const storedLength = head.readUInt32LE(12);
    const codec = head.readUInt8(16);
    if (rawLength === 0) return;
    if (rawLength > RECORD_MAX || storedLength > RECORD_MAX + RECORD_MAX / 6 + 32 || offset < next || offset + rawLength > size || codec > CODEC_SNAPPY) {
      throw new SnapshotTransferError(`pack record at offset ${offset} (${rawLength} bytes) is malformed: the pack is damaged; send it again`);
    }
    const stored = await reader.read(storedLength);
    let data: Buffer;
    try {
      data = codec === CODEC_SNAPPY ? (uncompressSync(stored, { asBuffer: true }) as Buffer) : stored;
    } catch (err) {
      throw new SnapshotTransferError('a pack record does not decompress: the pack is damaged; send it again', { cause: err });
    }
    if (data.length !== rawLength) throw new SnapshotTransferError('a pack record decompresses to the wrong length: the pack is damaged; send it again');
    next = offset + rawLength;
    await sink.write(offset, data);
  }
}

function damaged(digest: Digest, cause?: unknown): SnapshotTransferError {
  return new SnapshotTransferError(`blob ${digest} in the pack does not match its digest: the pack is damaged; send it again`, { cause });
}

function digestBytes(digest: Digest): Buffer {
  return Buffer.from(digest.slice('sha256:'.length), 'hex');
}

function digestFromBytes(bytes: Buffer): Digest {
  return `sha256:${bytes.toString('hex')}`;
}

/** Exact-length reads over any chunking of the incoming bytes. */
class ByteReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      const next = await this.it.next();
      if (next.done) throw new SnapshotTransferError(`the pack ends early (wanted ${n} more bytes, have ${this.buffered}): it was cut short; send it again`);
      const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks.length = 0;
    if (rest.length > 0) this.chunks.push(rest);
    this.buffered = rest.length;
    return out;
  }
}
