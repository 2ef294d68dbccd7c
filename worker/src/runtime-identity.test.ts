import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { digestOfFiles } from './runtime-identity.js';

it('changes when any of the files changes, and only then', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-runtime-id-'));
  const guest = join(dir, 'guest.elf');
  const vmm = join(dir, 'vmm.node');
  writeFileSync(guest, 'guest v1');
  writeFileSync(vmm, 'vmm v1');
  const first = digestOfFiles([guest, vmm]);
  expect(digestOfFiles([guest, vmm])).toBe(first);
  writeFileSync(guest, 'guest v2');
  const second = digestOfFiles([guest, vmm]);
  expect(second).not.toBe(first);
  writeFileSync(vmm, 'vmm v2');
  expect(digestOfFiles([guest, vmm])).not.toBe(second);
  expect(first).toMatch(/^[0-9a-f]{16}$/);
});
