// The golden snapshot files (vmm/native/testdata/golden/) through the TypeScript reader. The C and
// C++ tests (vmm/native/test/test_golden*.c*) decode the same files to the same values
// (vmm/native/test/golden_values.h), so a format change that one reader misses fails one of them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SnapshotCorruptError, SnapshotMagicError, SnapshotTruncatedError } from './errors.js';
import { decodeCpuEnvelope, decodePagesFile } from './snapshot-files.js';

const golden = (name: string) => readFileSync(fileURLToPath(new URL(`../../vmm/native/testdata/golden/${name}`, import.meta.url)));
/** golden_values.h: ids are 16 bytes counting up from a seed. */
const seededId = (seed: number) => Buffer.from(Array.from({ length: 16 }, (_, i) => seed + i)).toString('hex');
const MEM = 64 * 1024 * 1024;

describe('golden snapshot files in TypeScript', () => {
  it('decodes the full pages.bin', () => {
    expect(decodePagesFile(golden('pages-full.bin'))).toEqual({
      layered: false,
      memoryBytes: MEM,
      id: seededId(0x10),
      baseId: '00'.repeat(16),
      dataPages: 211,
      diffPages: 0,
      runs: [],
    });
  });

  it('decodes the layered pages.bin', () => {
    expect(decodePagesFile(golden('pages-layered.bin'))).toEqual({
      layered: true,
      memoryBytes: MEM,
      id: seededId(0x20),
      baseId: seededId(0x10),
      dataPages: 230,
      diffPages: 24,
      runs: [
        [5, 3],
        [1024, 1],
        [16000, 20],
      ],
    });
  });

  it("decodes the envelope of both platforms' cpu.bin", () => {
    expect(decodeCpuEnvelope(golden('cpu-kvm.bin'))).toMatchObject({ platform: 'kvm', id: seededId(0x10), memoryBytes: MEM, abiVersion: 1 });
    expect(decodeCpuEnvelope(golden('cpu-ptrace.bin'))).toEqual({
      platform: 'ptrace',
      id: seededId(0x20),
      memoryBytes: MEM,
      abiVersion: 1,
      payloadBytes: 216 + 512,
    });
  });

  it('refuses a damaged, cut or foreign file', () => {
    const layered = golden('pages-layered.bin');
    const flipped = Buffer.from(layered);
    flipped[85]! ^= 1;
    expect(() => decodePagesFile(flipped)).toThrow(SnapshotCorruptError);
    expect(() => decodePagesFile(layered.subarray(0, layered.length - 1))).toThrow(SnapshotTruncatedError);
    expect(() => decodePagesFile(golden('cpu-kvm.bin'))).toThrow(SnapshotMagicError);
    expect(() => decodeCpuEnvelope(layered)).toThrow(SnapshotMagicError);
    const cpu = Buffer.from(golden('cpu-ptrace.bin'));
    cpu[100]! ^= 0x80;
    expect(() => decodeCpuEnvelope(cpu)).toThrow(SnapshotCorruptError);
  });
});
