// kvmHostSandbox: everything readable but the data directory, whose laid-out snapshots stay readable.
import { mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { expect, it } from 'vitest';
import { kvmHostSandbox } from './host-sandbox.js';

it('lists every entry beside the way to the data directory, never the data directory, plus its work/ and snapshot blobs', () => {
  const parent = realpathSync(mkdtempSync(join(tmpdir(), 'fn-sandbox-')));
  const dataDir = join(parent, 'data');
  mkdirSync(join(dataDir, 'work'), { recursive: true });
  mkdirSync(join(parent, 'sibling'));
  const { readable, devices } = kvmHostSandbox(dataDir);
  expect(readable).toContain(join(parent, 'sibling'));
  expect(readable).toContain('/usr');
  expect(readable).toContain(join(dataDir, 'work'));
  const inside = readable.filter((p) => p === dataDir || p.startsWith(dataDir + sep));
  expect(inside).toEqual([join(dataDir, 'work'), join(dataDir, 'snapshots', 'blobs')]);
  // No ancestor of the data directory is readable as a whole (that would include it).
  expect(readable.filter((p) => dataDir.startsWith(p + sep) || p === '/')).toEqual([]);
  expect(devices).toEqual(['/dev/kvm']);
});
