import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sha256 } from './digest.js';
import { SnapshotCorruptError, SnapshotError, SnapshotMagicError, SnapshotTruncatedError, SnapshotVersionError } from './errors.js';
import { FORMAT_VERSION, decodeStateFile, encodeStateFile } from './state-file.js';
import { basePayload, guestImage } from './test-support/fixtures.js';

const memory = guestImage('base', [0, 3]);
const payload = basePayload(memory);
const file = encodeStateFile(payload);

/** An envelope with any version and payload bytes, with a correct CRC (what another build writes). */
function envelope(json: string, major: number, minor: number): Buffer {
  const body = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(20 + body.length + 4);
  out.write('FNSNAPST', 0, 'latin1');
  out.writeUInt16LE(major, 8);
  out.writeUInt16LE(minor, 10);
  out.writeBigUInt64LE(BigInt(body.length), 12);
  body.copy(out, 20);
  out.writeUInt32LE(crc32(out.subarray(0, 20 + body.length)), 20 + body.length);
  return out;
}

function refusal(bytes: Uint8Array): unknown {
  try {
    decodeStateFile(bytes);
  } catch (err) {
    return err;
  }
  throw new Error('decodeStateFile accepted a file it should refuse');
}

describe('state file', () => {
  it('round-trips the payload and says which format it was', () => {
    expect(file.subarray(0, 8).toString('latin1')).toBe('FNSNAPST');
    const decoded = decodeStateFile(file);
    expect(decoded.formatVersion).toEqual(FORMAT_VERSION);
    expect(decoded.state).toEqual(payload);
    expect(encodeStateFile(decoded.state)).toEqual(file);
  });

  it('round-trips a function snapshot with a diff layer', () => {
    const diff = guestImage('fn', [5]);
    const fn = {
      ...payload,
      kind: 'function' as const,
      base: sha256(file),
      function: { name: 'hello', version: 3, bundleDigest: sha256(Buffer.from('bundle')) },
      memory: {
        layers: [
          payload.memory.layers[0]!,
          {
            role: 'diff' as const,
            digest: sha256(diff),
            bytes: diff.length,
            pages: 2,
            runs: [
              [1, 1],
              [5, 1],
            ] as Array<[number, number]>,
          },
        ],
      },
    };
    expect(decodeStateFile(encodeStateFile(fn)).state).toEqual(fn);
  });

  it('is refused with SnapshotTruncatedError when cut at any of several offsets', () => {
    for (const at of [0, 3, 8, 12, 19, 20, 21, file.length >> 1, file.length - 4, file.length - 1]) {
      const err = refusal(file.subarray(0, at));
      expect(err, `cut at ${at}`).toBeInstanceOf(SnapshotTruncatedError);
      expect((err as Error).message).toMatch(/cut short.*take the snapshot again/);
    }
  });

  it('is refused when any single bit is flipped, and never half-read', () => {
    for (let pos = 0; pos < file.length; pos++) {
      const bad = Buffer.from(file);
      bad[pos]! ^= 1 << (pos % 8);
      const err = refusal(bad);
      expect(err, `bit flipped at byte ${pos}`).toBeInstanceOf(SnapshotError);
      if (pos < 8) expect(err).toBeInstanceOf(SnapshotMagicError);
      // The version is read only after the CRC passed: a flipped version bit is damage, not "newer".
      else if (pos < 12 || pos >= 20) expect(err, `byte ${pos}`).toBeInstanceOf(SnapshotCorruptError);
      else
        expect(
          [SnapshotTruncatedError, SnapshotCorruptError].some((c) => err instanceof c),
          `length byte ${pos}`,
        ).toBe(true);
    }
    const crcFlip = Buffer.from(file);
    crcFlip[file.length - 2]! ^= 0x10;
    expect((refusal(crcFlip) as Error).message).toContain('the file is damaged; take the snapshot again');
  });

  it('refuses a wrong magic with SnapshotMagicError', () => {
    const wrong = Buffer.from(file);
    wrong.write('FNSNAPSX', 0, 'latin1');
    expect(refusal(wrong)).toBeInstanceOf(SnapshotMagicError);
    expect(refusal(Buffer.from('\x89PNG\r\n\x1a\n' + 'x'.repeat(40), 'latin1'))).toBeInstanceOf(SnapshotMagicError);
    expect(refusal(Buffer.from('FNX'))).toBeInstanceOf(SnapshotMagicError);
  });

  it('refuses another major version, naming both versions', () => {
    const json = JSON.stringify(payload);
    for (const major of [FORMAT_VERSION.major + 1, 0]) {
      const err = refusal(envelope(json, major, 0));
      expect(err).toBeInstanceOf(SnapshotVersionError);
      expect((err as SnapshotVersionError).found).toEqual({ major, minor: 0 });
      expect((err as SnapshotVersionError).supported).toEqual(FORMAT_VERSION);
      expect((err as Error).message).toContain(`format ${major}.0`);
      expect((err as Error).message).toContain('this build reads format 1.x');
    }
  });

  it('accepts a newer minor version of the same major, ignoring fields it does not know', () => {
    const newer = envelope(JSON.stringify({ ...payload, addedInANewerMinor: { hugePages: true } }), FORMAT_VERSION.major, FORMAT_VERSION.minor + 1);
    const decoded = decodeStateFile(newer);
    expect(decoded.formatVersion).toEqual({ major: FORMAT_VERSION.major, minor: FORMAT_VERSION.minor + 1 });
    expect(decoded.state).toEqual(payload);
  });

  it('refuses a payload that is not JSON, or does not match the schema, even with a good CRC', () => {
    expect(refusal(envelope('{not json', 1, 0))).toBeInstanceOf(SnapshotCorruptError);
    const shortLayer = { ...payload, memory: { layers: [{ ...payload.memory.layers[0]!, bytes: 4096 }] } };
    expect((refusal(envelope(JSON.stringify(shortLayer), 1, 0)) as Error).message).toMatch(/memory layer 0 is 4096 bytes/);
    expect(refusal(envelope(JSON.stringify({ ...payload, kind: 'function' }), 1, 0))).toBeInstanceOf(SnapshotCorruptError);
  });

  it('refuses trailing bytes after the CRC', () => {
    expect(refusal(Buffer.concat([file, Buffer.from([0])]))).toBeInstanceOf(SnapshotCorruptError);
  });

  it('will not encode an invalid payload', () => {
    expect(() => encodeStateFile({ ...payload, memoryBytes: 1000 })).toThrow();
    const overlapping = {
      ...payload,
      kind: 'function' as const,
      base: sha256(file),
      function: { name: 'f', bundleDigest: sha256(file) },
      memory: {
        layers: [
          payload.memory.layers[0]!,
          {
            role: 'diff' as const,
            digest: sha256(file),
            bytes: memory.length,
            pages: 3,
            runs: [
              [1, 2],
              [2, 1],
            ] as Array<[number, number]>,
          },
        ],
      },
    };
    expect(() => encodeStateFile(overlapping)).toThrow(/sorted and must not overlap/);
    expect(() => encodeStateFile({ ...overlapping, memory: { layers: [overlapping.memory.layers[1]!] } })).toThrow(/first memory layer/);
  });
});
