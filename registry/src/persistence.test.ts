/**
 * Restart: everything written before close (or before a crash) is there after the next open.
 */
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { ADMIN } from './caller.js';
import { openDatabase } from './db.js';
import { Registry } from './registry.js';
import { buildChild, startChild } from './test-support/children.js';
import { deployInput, openWithTenants, tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('persistence', () => {
  it('keeps tenants, keys, functions, versions, aliases, env, secrets and logs across a restart', () => {
    const first = openWithTenants(dir);
    const admin = first.registry.keys.ensureAdminKey()!;
    const { registry } = first;
    registry.functions.createVersion(deployInput('acme', 'api', 'a', { env: { MODE: 'prod' } }));
    registry.functions.createVersion(deployInput('acme', 'api', 'b'));
    registry.functions.setAlias('acme', 'api', 'beta', 2);
    registry.functions.rollback('acme', 'api');
    registry.env.setSecret('acme', 'api', 'TOKEN', 't0k3n');
    registry.functions.createVersion(deployInput('acme', 'gone'));
    registry.functions.delete('acme', 'gone');
    registry.keys.revoke(ADMIN, first.globexKey.id);
    registry.logs.append({
      tenant: 'acme',
      function: 'api',
      version: 1,
      invocationId: 'inv-1',
      status: 'timeout',
      durationMs: 3000,
      cold: true,
      logs: [{ level: 'warn', message: 'slow', ms: 2999 }],
    });
    const before = {
      tenants: registry.tenants.list(ADMIN),
      keys: registry.keys.list(ADMIN),
      functions: registry.functions.list('acme'),
      api: registry.functions.describe('acme', 'api'),
      logs: registry.logs.query('acme', 'api'),
    };
    registry.close();

    const reopened = Registry.open(dir);
    expect(reopened.keys.ensureAdminKey()).toBeNull();
    expect(reopened.keys.authenticate(admin.secret)).toEqual({ keyId: admin.id, tenantId: null });
    expect(reopened.keys.authenticate(first.acmeKey.secret)).toEqual({ keyId: first.acmeKey.id, tenantId: 'acme' });
    expect(reopened.keys.authenticate(first.globexKey.secret)).toBeNull();
    expect(reopened.tenants.list(ADMIN)).toEqual(before.tenants);
    expect(reopened.keys.list(ADMIN)).toEqual(before.keys);
    expect(reopened.functions.list('acme')).toEqual(before.functions);
    expect(reopened.functions.describe('acme', 'api')).toEqual(before.api);
    expect(reopened.logs.query('acme', 'api')).toEqual(before.logs);
    expect(reopened.env.secretsForInvocation('acme', 'api')).toEqual({ TOKEN: 't0k3n' });
    expect(reopened.functions.resolve('acme', 'api').version).toBe(1);
    expect(reopened.functions.createVersion(deployInput('acme', 'gone')).version).toBe(2);
    reopened.close();
  });
});

describe('crash', () => {
  let child: string;
  let childDir: string;
  let childCleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir: childDir, cleanup: childCleanup } = await tempDir('fn-registry-child-'));
    child = await buildChild(childDir);
  });
  afterAll(() => childCleanup());

  it('reopens cleanly after a writer is killed mid-transaction', async () => {
    const setup = Registry.open(dir);
    setup.tenants.create(ADMIN, 'acme');
    setup.close();
    const writer = await startChild(child, ['write-forever', dir, 'acme']);
    // Let it commit for a while, then kill it without warning: no close(), no checkpoint.
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise((r) => writer.once('exit', r));
    writer.kill('SIGKILL');
    await exited;

    const registry = Registry.open(dir);
    const functions = registry.functions.list('acme');
    expect(functions.length).toBeGreaterThan(0);
    for (const f of functions) {
      const versions = registry.functions.versions('acme', f.name).map((v) => v.version);
      // Each deploy committed whole: live points at the newest, no version is half there.
      expect(registry.functions.resolve('acme', f.name).version).toBe(Math.max(...versions));
    }
    registry.close();
    const db = openDatabase(dir);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});
