// fn.db holds key hashes, sealed secrets and every function's metadata: owner-only (issue 13,
// hole 7: it was 0644 under the usual umask), and so are the data directory and SQLite's side files.
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Registry } from './registry.js';
import { tempDir } from './test-support/fixtures.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const mode = (path: string) => statSync(path).mode & 0o777;

it('creates the data directory 0700 and fn.db, its WAL and the secrets key 0600', () => {
  const dir = join(root, 'data');
  const registry = Registry.open(dir);
  registry.keys.ensureAdminKey();
  expect(mode(dir)).toBe(0o700);
  for (const file of ['fn.db', 'fn.db-wal', 'fn.db-shm', 'secrets.key']) expect(mode(join(dir, file)), file).toBe(0o600);
  registry.close();
});

it('tightens an fn.db an older start left world-readable', () => {
  const dir = join(root, 'data');
  Registry.open(dir).close();
  chmodSync(join(dir, 'fn.db'), 0o644);
  Registry.open(dir).close();
  expect(mode(join(dir, 'fn.db'))).toBe(0o600);
});
