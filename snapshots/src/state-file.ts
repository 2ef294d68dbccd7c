/**
 * The snapshot state file: everything about a snapshot except the guest memory itself.
 *
 *   offset  size  field
 *   0       8     magic "FNSNAPST"
 *   8       2     format major (u16 LE)
 *   10      2     format minor (u16 LE)
 *   12      8     payload length N (u64 LE)
 *   20      N     payload: UTF-8 JSON, validated by StatePayloadSchema
 *   20+N    4     CRC32 (zlib) of bytes [0, 20+N)
 *
 * The envelope (magic, version, length, CRC) is frozen for every format version; a new MAJOR only
 * changes what the payload means. That lets a reader check the CRC *before* it looks at the
 * version, so a flipped bit in the version field reads as "damaged", not as "written by a newer
 * fn". Should the envelope itself ever have to change, the magic changes with it.
 *
 * The format version is independent of the package version: bump MINOR for additions an older
 * reader may ignore (unknown payload keys are stripped, not refused), MAJOR for anything else.
 */
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { PAGE_SIZE, isDigest, type Digest } from './digest.js';
import { SnapshotCorruptError, SnapshotMagicError, SnapshotTruncatedError, SnapshotVersionError } from './errors.js';

export const STATE_MAGIC = Buffer.from('FNSNAPST', 'latin1');
/** 1.1: runtimeId (older readers ignore it; a snapshot without it was made before 1.1). */
export const FORMAT_VERSION = { major: 1, minor: 1 } as const;
export interface FormatVersion {
  major: number;
  minor: number;
}

const HEADER_BYTES = 20;
const CRC_BYTES = 4;
/** CPU state is ~5 KB; a huge length can only be a damaged header, so don't try to read it. */
const MAX_PAYLOAD_BYTES = 16 << 20;

const DigestSchema = z.custom<Digest>((v) => typeof v === 'string' && isDigest(v), 'expected "sha256:" and 64 lowercase hex characters');

/** [first page, page count]: a run of guest pages that a diff layer provides. */
const PageRunSchema = z.tuple([z.number().int().nonnegative(), z.number().int().positive()]);

const MemoryLayerSchema = z.object({
  role: z.enum(['base', 'diff']),
  digest: DigestSchema,
  /** Logical length of the layer file; always memoryBytes, so any page of the guest can be mapped. */
  bytes: z.number().int().positive(),
  /** base: pages with data (the rest are holes); diff: pages it overrides (sum of runs). */
  pages: z.number().int().nonnegative(),
  /**
   * diff only: which pages override the layers beneath. Holes can't say this: a page that went
   * from data in the base to all zeros in the function must still be mapped from the diff.
   */
  runs: z.array(PageRunSchema).optional(),
});

export const StatePayloadSchema = z
  .object({
    /** The VMM that wrote cpu and layout: a snapshot restores only on the same platform. */
    platform: z.enum(['kvm', 'ptrace']),
    /** FN_ABI_VERSION of the guest that was snapshotted: a restore must run a host speaking it. */
    abiVersion: z.number().int().nonnegative(),
    /**
     * The runtime build (digest of the guest ELF and the VMM) that made the snapshot's memory: a
     * platform running another build refuses to restore it and rebuilds it from its bundle.
     */
    runtimeId: z.string().min(1).max(128).optional(),
    memoryBytes: z
      .number()
      .int()
      .positive()
      .multipleOf(PAGE_SIZE)
      .max(2 ** 40),
    createdAt: z.iso.datetime({ offset: true }),
    kind: z.enum(['base', 'function']),
    /** Registers, FPU/SSE, MSRs: opaque to everything but the VMM that produced them. */
    cpu: z.base64(),
    /** pages.bin exactly as the VMM wrote it (fn_vmm_control.h): it carries the snapshot id cpu.bin is checked against. */
    layout: z.base64(),
    memory: z.object({ layers: z.array(MemoryLayerSchema).min(1) }),
    function: z
      .object({
        name: z.string().min(1),
        version: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
        bundleDigest: DigestSchema,
      })
      .optional(),
    /** Digest of the base snapshot's state file this one layers on. */
    base: DigestSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', message });
    const totalPages = s.memoryBytes / PAGE_SIZE;
    s.memory.layers.forEach((layer, i) => {
      if (layer.bytes !== s.memoryBytes) issue(`memory layer ${i} is ${layer.bytes} bytes, the guest has ${s.memoryBytes}`);
      if ((i === 0) !== (layer.role === 'base')) issue('the first memory layer, and only it, must have role "base"');
      if (layer.role === 'base' && layer.runs !== undefined) issue('a base layer has no runs: it covers the whole guest');
      if (layer.role === 'diff') {
        if (layer.runs === undefined) return issue(`diff layer ${i} must list its page runs`);
        let next = 0;
        let sum = 0;
        for (const [first, count] of layer.runs) {
          if (first < next) issue(`diff layer ${i}: page runs must be sorted and must not overlap`);
          next = first + count;
          sum += count;
        }
        if (next > totalPages) issue(`diff layer ${i}: a page run ends past the guest memory (${totalPages} pages)`);
        if (sum !== layer.pages) issue(`diff layer ${i}: runs cover ${sum} pages, "pages" says ${layer.pages}`);
      }
    });
    if (s.kind === 'base') {
      if (s.base !== undefined || s.function !== undefined) issue('a base snapshot has neither "base" nor "function"');
      if (s.memory.layers.length !== 1) issue('a base snapshot has exactly one memory layer');
    } else if (s.base === undefined || s.function === undefined) {
      issue('a function snapshot names its "base" snapshot and its "function"');
    }
  });

export type StatePayload = z.infer<typeof StatePayloadSchema>;
export type StatePayloadInput = z.input<typeof StatePayloadSchema>;
export type MemoryLayer = StatePayload['memory']['layers'][number];

export interface DecodedStateFile {
  formatVersion: FormatVersion;
  state: StatePayload;
}

/**
 * Validates the payload and wraps it in the envelope. `formatVersion` is only for tests and
 * migration tools: a snapshot taken by this build is always FORMAT_VERSION.
 */
export function encodeStateFile(payload: StatePayloadInput, formatVersion: FormatVersion = FORMAT_VERSION): Buffer {
  const state = StatePayloadSchema.parse(payload);
  const json = Buffer.from(JSON.stringify(state), 'utf8');
  const out = Buffer.alloc(HEADER_BYTES + json.length + CRC_BYTES);
  STATE_MAGIC.copy(out, 0);
  out.writeUInt16LE(formatVersion.major, 8);
  out.writeUInt16LE(formatVersion.minor, 10);
  out.writeBigUInt64LE(BigInt(json.length), 12);
  json.copy(out, HEADER_BYTES);
  out.writeUInt32LE(crc32(out.subarray(0, HEADER_BYTES + json.length)), HEADER_BYTES + json.length);
  return out;
}

const AGAIN = 'take the snapshot again';

/** Decodes and checks a state file; every refusal is a SnapshotError subclass, nothing half-read. */
export function decodeStateFile(input: Uint8Array, source = 'state file'): DecodedStateFile {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const magicSeen = bytes.subarray(0, STATE_MAGIC.length);
  if (!STATE_MAGIC.subarray(0, magicSeen.length).equals(magicSeen)) {
    throw new SnapshotMagicError(`${source} is not an fn snapshot state file (it does not start with "FNSNAPST"); check the path or digest you passed`);
  }
  if (bytes.length < HEADER_BYTES + CRC_BYTES) {
    throw new SnapshotTruncatedError(`${source} is cut short: ${bytes.length} bytes, less than the ${HEADER_BYTES + CRC_BYTES}-byte envelope; ${AGAIN}`);
  }
  const payloadLength = bytes.readBigUInt64LE(12);
  if (payloadLength > BigInt(MAX_PAYLOAD_BYTES)) {
    throw new SnapshotCorruptError(`${source} header claims a ${payloadLength}-byte payload, more than any state file holds: the file is damaged; ${AGAIN}`);
  }
  const total = HEADER_BYTES + Number(payloadLength) + CRC_BYTES;
  if (bytes.length < total) {
    throw new SnapshotTruncatedError(`${source} is cut short: ${bytes.length} of the ${total} bytes its header announces (or its header is damaged); ${AGAIN}`);
  }
  if (bytes.length > total) {
    throw new SnapshotCorruptError(`${source} has ${bytes.length - total} bytes after its CRC: the file is damaged; ${AGAIN}`);
  }
  const crcOffset = total - CRC_BYTES;
  const expected = bytes.readUInt32LE(crcOffset);
  const actual = crc32(bytes.subarray(0, crcOffset));
  if (expected !== actual) {
    throw new SnapshotCorruptError(`${source} fails its CRC check (stored ${hex32(expected)}, computed ${hex32(actual)}): the file is damaged; ${AGAIN}`);
  }
  const formatVersion = { major: bytes.readUInt16LE(8), minor: bytes.readUInt16LE(10) };
  if (formatVersion.major !== FORMAT_VERSION.major) {
    throw new SnapshotVersionError(
      `${source} has snapshot format ${formatVersion.major}.${formatVersion.minor}; this build reads format ${FORMAT_VERSION.major}.x ` +
        `(up to ${FORMAT_VERSION.major}.${FORMAT_VERSION.minor} fully): ${AGAIN} with this build, or restore it with a build that reads format ${formatVersion.major}`,
      formatVersion,
      { ...FORMAT_VERSION },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES, crcOffset)));
  } catch (err) {
    throw new SnapshotCorruptError(`${source} payload is not UTF-8 JSON although its CRC matches (a writer bug): ${AGAIN}`, { cause: err });
  }
  const parsed = StatePayloadSchema.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
    throw new SnapshotCorruptError(`${source} payload is invalid (${why}): ${AGAIN}`, { cause: parsed.error });
  }
  return { formatVersion, state: parsed.data };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
