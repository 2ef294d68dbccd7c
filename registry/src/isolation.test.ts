/**
 * Tenant A (acme) against tenant B (globex)'s function, through every method that takes a tenant.
 * Functions are named per tenant, so B's function is simply not in A's namespace.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, type Caller } from './caller.js';
import { ForbiddenError, NotFoundError } from './errors.js';
import type { Registry } from './registry.js';
import { deployInput, digest, openWithTenants, tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let registry: Registry;
let acme: Caller;
let globex: Caller;
let globexKeyId: string;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  let keys;
  ({ registry, acme, globex, ...keys } = openWithTenants(dir));
  globexKeyId = keys.globexKey.id;
  registry.functions.createVersion(deployInput('globex', 'billing', 'b1', { env: { REGION: 'eu' } }));
  registry.functions.createVersion(deployInput('globex', 'billing', 'b2'));
  registry.env.setSecret('globex', 'billing', 'STRIPE_KEY', 'sk_live_globex');
  registry.logs.append({
    tenant: 'globex',
    function: 'billing',
    version: 2,
    invocationId: 'inv-1',
    status: 'ok',
    durationMs: 3,
    cold: true,
    logs: [{ level: 'log', message: 'globex only', ms: 1 }],
  });
});
afterEach(async () => {
  registry.close();
  await cleanup();
});

/** acme's tenant id, as the gateway passes it after authenticate(). */
const A = () => acme.tenantId!;

describe('tenant isolation', () => {
  it('A cannot see, read or change B’s function through any function method', () => {
    expect(registry.functions.list(A())).toEqual([]);
    const attempts: [string, () => unknown][] = [
      ['describe', () => registry.functions.describe(A(), 'billing')],
      ['versions', () => registry.functions.versions(A(), 'billing')],
      ['aliases', () => registry.functions.aliases(A(), 'billing')],
      ['resolve', () => registry.functions.resolve(A(), 'billing')],
      ['resolve v1', () => registry.functions.resolve(A(), 'billing', 1)],
      ['delete', () => registry.functions.delete(A(), 'billing')],
      ['setAlias', () => registry.functions.setAlias(A(), 'billing', 'live', 1)],
      ['deleteAlias', () => registry.functions.deleteAlias(A(), 'billing', 'beta')],
      ['rollback', () => registry.functions.rollback(A(), 'billing')],
      ['setEnv', () => registry.env.setEnv(A(), 'billing', { X: '1' })],
      ['unsetEnv', () => registry.env.unsetEnv(A(), 'billing', ['REGION'])],
      ['setSecret', () => registry.env.setSecret(A(), 'billing', 'STRIPE_KEY', 'stolen')],
      ['unsetSecret', () => registry.env.unsetSecret(A(), 'billing', 'STRIPE_KEY')],
      ['secretNames', () => registry.env.secretNames(A(), 'billing')],
      ['secretsForInvocation', () => registry.env.secretsForInvocation(A(), 'billing')],
    ];
    for (const [what, attempt] of attempts) {
      expect(attempt, what).toThrow(NotFoundError);
    }
    // B's function is untouched.
    const b = registry.functions.describe('globex', 'billing');
    expect(b.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(b.aliases).toMatchObject([{ name: 'live', version: 2 }]);
    expect(registry.env.secretsForInvocation('globex', 'billing')).toEqual({ STRIPE_KEY: 'sk_live_globex' });
  });

  it('A deploying the same name creates A’s own function and leaves B’s alone', () => {
    const mine = registry.functions.createVersion(deployInput(A(), 'billing', 'acme-billing'));
    expect(mine).toMatchObject({ tenant: 'acme', version: 1, snapshotDigest: digest('snapshot:acme-billing') });
    expect(registry.functions.resolve('globex', 'billing')).toMatchObject({ version: 2, snapshotDigest: digest('snapshot:b2') });
    expect(registry.functions.list('globex').map((f) => f.name)).toEqual(['billing']);
    expect(registry.functions.list(A()).map((f) => f.name)).toEqual(['billing']);
    registry.functions.delete(A(), 'billing');
    expect(registry.functions.resolve('globex', 'billing').version).toBe(2);
  });

  it('A cannot read B’s logs, even for a function of the same name', () => {
    registry.functions.createVersion(deployInput(A(), 'billing'));
    expect(registry.logs.query(A(), 'billing').records).toEqual([]);
    expect(registry.logs.query(A(), 'billing', { afterId: 0 }).records).toEqual([]);
    expect(registry.logs.query('globex', 'billing').records.map((r) => r.invocationId)).toEqual(['inv-1']);
  });

  it('A cannot invoke B’s private function, and cannot learn that it exists', () => {
    const asA = () => registry.functions.resolveForInvocation(acme, 'globex', 'billing');
    expect(asA).toThrow(NotFoundError);
    expect(asA).toThrow(/no public function "billing"/);
    let missing: Error | undefined;
    try {
      registry.functions.resolveForInvocation(acme, 'globex', 'no-such-fn');
    } catch (e) {
      missing = e as Error;
    }
    expect(missing!.message).toBe(`no public function "no-such-fn" in tenant "globex": a private function is invoked with a key of its tenant`);
    expect(() => registry.functions.resolveForInvocation(null, 'globex', 'billing')).toThrow(NotFoundError);
    expect(registry.functions.resolveForInvocation(globex, 'globex', 'billing').version).toBe(2);
    expect(registry.functions.resolveForInvocation(ADMIN, 'globex', 'billing').version).toBe(2);
    // Once B makes it public, anyone may invoke it (but still not change it).
    registry.functions.createVersion(deployInput('globex', 'billing', 'b3', { config: { entry: 'index.js', public: true } }));
    expect(registry.functions.resolveForInvocation(acme, 'globex', 'billing').version).toBe(3);
    expect(registry.functions.resolveForInvocation(null, 'globex', 'billing').version).toBe(3);
    expect(() => registry.functions.delete(A(), 'billing')).toThrow(NotFoundError);
  });

  it('A cannot read B’s tenant or keys, nor revoke B’s key', () => {
    expect(registry.tenants.list(acme).map((t) => t.id)).toEqual(['acme']);
    expect(registry.tenants.list(ADMIN).map((t) => t.id)).toEqual(['acme', 'globex']);
    expect(() => registry.tenants.get(acme, 'globex')).toThrow(ForbiddenError);
    expect(registry.tenants.get(acme, 'acme').id).toBe('acme');
    expect(() => registry.keys.list(acme, 'globex')).toThrow(ForbiddenError);
    expect(registry.keys.list(acme).every((k) => k.tenantId === 'acme')).toBe(true);
    expect(() => registry.keys.revoke(acme, globexKeyId)).toThrow(ForbiddenError);
    expect(registry.keys.list(globex)[0]!.revokedAt).toBeNull();
  });
});
