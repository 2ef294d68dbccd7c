/**
 * Several writers on one fn.db: two Registry instances in one process, and several processes
 * (gateway and workers on one machine share the data directory).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from './caller.js';
import { openDatabase } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { Registry } from './registry.js';
import { buildChild, runChild } from './test-support/children.js';
import { deployInput, tempDir } from './test-support/fixtures.js';

let root: string;
let cleanup: () => Promise<void>;
let child: string;
let n = 0;
const freshDir = () => `${root}/data-${n++}`;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  child = await buildChild(root);
});
afterAll(() => cleanup());

function expectIntact(dir: string): void {
  const db = openDatabase(dir);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(db.pragma('foreign_key_check')).toEqual([]);
  db.close();
}

describe('concurrent writers', () => {
  it('two instances in one process interleave without losing or repeating a version', () => {
    const dir = freshDir();
    const a = Registry.open(dir);
    const b = Registry.open(dir);
    a.tenants.create(ADMIN, 'acme');
    const versions: number[] = [];
    for (let i = 0; i < 20; i++) versions.push((i % 2 ? a : b).functions.createVersion(deployInput('acme', 'api', `v${i}`)).version);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    b.env.setSecret('acme', 'api', 'TOKEN', 'x');
    expect(a.env.secretsForInvocation('acme', 'api')).toEqual({ TOKEN: 'x' }); // same secrets.key
    expect(a.functions.describe('acme', 'api')).toEqual(b.functions.describe('acme', 'api'));
    a.close();
    b.close();
    expectIntact(dir);
  });

  it('processes deploying the same function at once get distinct, gapless versions', async () => {
    const dir = freshDir();
    const setup = Registry.open(dir);
    setup.tenants.create(ADMIN, 'acme');
    setup.close();
    const PROCESSES = 4;
    const EACH = 40;
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, () => runChild<{ versions: number[]; logIds: number[] }>(child, ['deploy', dir, 'acme', 'api', String(EACH)])),
    );
    const all = results.flatMap((r) => r.versions).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: PROCESSES * EACH }, (_, i) => i + 1));
    for (const r of results) expect(r.versions).toEqual([...r.versions].sort((x, y) => x - y)); // each process saw them grow
    expect(new Set(results.flatMap((r) => r.logIds)).size).toBe(PROCESSES * EACH);
    const registry = Registry.open(dir, { maxLogsPerFunction: 1000 });
    expect(registry.functions.versions('acme', 'api')).toHaveLength(PROCESSES * EACH);
    expect(registry.logs.query('acme', 'api', { afterId: 0, limit: 1000 }).records).toHaveLength(PROCESSES * EACH);
    registry.close();
    expectIntact(dir);
  });

  it('processes starting on a fresh directory at once create exactly one admin key', async () => {
    const dir = freshDir();
    const results = await Promise.all(Array.from({ length: 4 }, () => runChild<{ created: boolean }>(child, ['first-start', dir])));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const registry = Registry.open(dir);
    expect(registry.keys.list(ADMIN)).toHaveLength(1);
    expect(registry.schemaVersion).toBe(MIGRATIONS.at(-1)!.version); // each migration applied once
    registry.close();
    expectIntact(dir);
  });
});
