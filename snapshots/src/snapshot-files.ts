/**
 * The VMM's snapshot files as the host reads them: pages.bin and the envelope of cpu.bin (layouts in
 * guest/include/fn_vmm_control.h). The VMMs read and write them in C (vmm/native/snapshot_format.c);
 * this is the TypeScript reader, and the golden files in vmm/native/testdata/golden/ pin both: the C
 * and the TypeScript tests decode the same bytes to the same values.
 */
import { crc32 } from 'node:zlib';
import { SnapshotCorruptError, SnapshotError, SnapshotMagicError, SnapshotTruncatedError } from './errors.js';

const PAGES_MAGIC = Buffer.from('FNPAGES\0', 'latin1');
const PAGES_HEADER_BYTES = 80;
const PAGES_VERSION = 1;
const PAGES_FLAG_LAYERED = 1;
const CPU_MAGIC = Buffer.from('FNCPUST\0', 'latin1');
const CPU_HEADER_BYTES = 56;
const CPU_VERSION = 1;
const PAGE_SIZE = 4096;
const AGAIN = 'take the snapshot again';

export interface PagesFile {
  layered: boolean;
  memoryBytes: number;
  /** The snapshot's id, hex (cpu.bin carries the same). */
  id: string;
  /** The base's id, hex; all zeros when not layered. */
  baseId: string;
  /** Non-zero pages written to memory.img. */
  dataPages: number;
  /** Pages listed in the runs (a layered snapshot's diff). */
  diffPages: number;
  /** Layered only: [first page, page count] runs of memory.img that replace the base's, sorted. */
  runs: Array<[number, number]>;
}

export interface CpuFileEnvelope {
  /** The VMM platform that wrote it ("kvm", "ptrace"); the payload is private to it. */
  platform: string;
  id: string;
  memoryBytes: number;
  abiVersion: number;
  payloadBytes: number;
}

function checkSealed(file: Buffer, name: string, magic: Buffer, headerBytes: number, expectedLength: (b: Buffer) => number): void {
  if (file.length === 0 || !file.subarray(0, Math.min(8, file.length)).equals(magic.subarray(0, Math.min(8, file.length)))) {
    throw new SnapshotMagicError(`${name} is not a ${name} file (it does not start with "${magic.toString('latin1', 0, 7)}")`);
  }
  if (file.length < headerBytes + 4) throw new SnapshotTruncatedError(`${name} is cut short: ${file.length} bytes; ${AGAIN}`);
  const want = expectedLength(file);
  if (file.length < want) throw new SnapshotTruncatedError(`${name} is ${file.length} bytes but its header makes ${want}; ${AGAIN}`);
  if (file.length > want) throw new SnapshotCorruptError(`${name} is ${file.length} bytes but its header makes ${want}; ${AGAIN}`);
  const stored = file.readUInt32LE(file.length - 4);
  const actual = crc32(file.subarray(0, file.length - 4));
  if (stored !== actual) throw new SnapshotCorruptError(`${name} fails its CRC check: the file is damaged; ${AGAIN}`);
}

/** Decodes and checks a whole pages.bin (the same checks as the VMMs make, but for the RAM size). */
export function decodePagesFile(file: Buffer): PagesFile {
  checkSealed(file, 'pages.bin', PAGES_MAGIC, PAGES_HEADER_BYTES, (b) => PAGES_HEADER_BYTES + b.readUInt32LE(28) * 8 + 4);
  const version = file.readUInt32LE(8);
  const flags = file.readUInt32LE(12);
  if (version !== PAGES_VERSION || (flags & ~PAGES_FLAG_LAYERED) !== 0) {
    throw new SnapshotError(`pages.bin has format version ${version} (flags 0x${flags.toString(16)}); this build reads version ${PAGES_VERSION}: ${AGAIN}`);
  }
  if (file.readUInt32LE(24) !== PAGE_SIZE) throw new SnapshotCorruptError(`pages.bin has page size ${file.readUInt32LE(24)}, not ${PAGE_SIZE}`);
  const memoryBytes = Number(file.readBigUInt64LE(16));
  const count = file.readUInt32LE(28);
  const layered = (flags & PAGES_FLAG_LAYERED) !== 0;
  if (!layered && count !== 0) throw new SnapshotCorruptError('pages.bin lists page runs but is not layered');
  const runs: Array<[number, number]> = [];
  let next = 0;
  for (let i = 0; i < count; i++) {
    const at = PAGES_HEADER_BYTES + i * 8;
    const first = file.readUInt32LE(at);
    const pages = file.readUInt32LE(at + 4);
    if (pages === 0 || first < next || (first + pages) * PAGE_SIZE > memoryBytes) {
      throw new SnapshotCorruptError(`pages.bin has run ${i} (page ${first}, ${pages} pages) empty, out of order or past the end of RAM`);
    }
    runs.push([first, pages]);
    next = first + pages;
  }
  const diffPages = Number(file.readBigUInt64LE(72));
  if (runs.reduce((sum, [, n]) => sum + n, 0) !== diffPages)
    throw new SnapshotCorruptError(`pages.bin says ${diffPages} diff pages, its runs hold another number`);
  return {
    layered,
    memoryBytes,
    id: file.toString('hex', 32, 48),
    baseId: file.toString('hex', 48, 64),
    dataPages: Number(file.readBigUInt64LE(64)),
    diffPages,
    runs,
  };
}

/** Decodes and checks the envelope of a cpu.bin (magic, length, CRC, version); the payload stays opaque. */
export function decodeCpuEnvelope(file: Buffer): CpuFileEnvelope {
  checkSealed(file, 'cpu.bin', CPU_MAGIC, CPU_HEADER_BYTES, (b) => b.readUInt32LE(12));
  const version = file.readUInt32LE(8);
  if (version !== CPU_VERSION) throw new SnapshotError(`cpu.bin has format version ${version}; this build reads version ${CPU_VERSION}: ${AGAIN}`);
  return {
    platform: file.toString('latin1', 16, 24).replace(/\0+$/, ''),
    id: file.toString('hex', 24, 40),
    memoryBytes: Number(file.readBigUInt64LE(40)),
    abiVersion: file.readUInt32LE(48),
    payloadBytes: file.length - CPU_HEADER_BYTES - 4,
  };
}
