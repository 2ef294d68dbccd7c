/**
 * Shared test helpers: a temp data directory, fake digests, and a registry with two tenants.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN } from '../caller.js';
import { DB_FILE } from '../db.js';
import { Registry, type RegistryOptions } from '../registry.js';
import type { CreateVersionInput } from '../schemas.js';

export async function tempDir(prefix = 'fn-registry-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A well-formed digest, different per seed. */
export function digest(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

export function deployInput(tenant: string, name: string, seed = name, extra: Partial<CreateVersionInput> = {}): CreateVersionInput {
  return {
    tenant,
    name,
    bundleDigest: digest(`bundle:${seed}`),
    snapshotDigest: digest(`snapshot:${seed}`),
    config: { entry: 'index.js' },
    ...extra,
  };
}

/** A registry with tenants "acme" and "globex", each with a key; close() it when done. */
export function openWithTenants(dir: string, options: RegistryOptions = {}) {
  const registry = Registry.open(dir, options);
  registry.tenants.create(ADMIN, 'acme');
  registry.tenants.create(ADMIN, 'globex');
  const acmeKey = registry.keys.create(ADMIN, 'acme', 'acme ci');
  const globexKey = registry.keys.create(ADMIN, 'globex', 'globex ci');
  return {
    registry,
    acme: registry.keys.authenticate(acmeKey.secret)!,
    globex: registry.keys.authenticate(globexKey.secret)!,
    acmeKey,
    globexKey,
  };
}

/** Everything SQLite has on disk for the registry: the database and its WAL (not yet checkpointed). */
export function databaseBytes(dir: string): Buffer {
  const files = [DB_FILE, `${DB_FILE}-wal`].map((f) => join(dir, f)).filter((p) => existsSync(p));
  return Buffer.concat(files.map((p) => readFileSync(p)));
}
