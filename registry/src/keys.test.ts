import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN } from './caller.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { Registry } from './registry.js';
import { databaseBytes, openWithTenants, tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('admin key on first start', () => {
  it('is created once and never shown again, even after a restart', () => {
    const registry = Registry.open(dir);
    const admin = registry.keys.ensureAdminKey();
    expect(admin).not.toBeNull();
    expect(admin!.secret).toMatch(/^fn_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(admin!.tenantId).toBeNull();
    expect(registry.keys.ensureAdminKey()).toBeNull();
    registry.close();
    const reopened = Registry.open(dir);
    expect(reopened.keys.ensureAdminKey()).toBeNull();
    expect(reopened.keys.authenticate(admin!.secret)).toEqual({ keyId: admin!.id, tenantId: null });
    reopened.close();
  });

  it('adopts FN_API_KEY at first start, and ignores it afterwards', () => {
    const registry = Registry.open(dir);
    const envKey = 'operator-chosen-key-0123456789';
    const admin = registry.keys.ensureAdminKey(envKey);
    expect(admin!.secret).toBe(envKey);
    expect(registry.keys.authenticate(envKey)).toEqual({ keyId: admin!.id, tenantId: null });
    expect(registry.keys.ensureAdminKey('another-operator-key-9876543210')).toBeNull();
    expect(registry.keys.authenticate('another-operator-key-9876543210')).toBeNull();
    expect(databaseBytes(dir).includes(envKey)).toBe(false);
    registry.close();
  });

  it('refuses a short FN_API_KEY and explains how to make a good one', () => {
    const registry = Registry.open(dir);
    expect(() => registry.keys.ensureAdminKey('short')).toThrow(ValidationError);
    expect(() => registry.keys.ensureAdminKey('short')).toThrow(/openssl rand/);
    // Nothing was recorded: a corrected key is still adopted.
    expect(registry.keys.ensureAdminKey('a-long-enough-operator-key')!.secret).toBe('a-long-enough-operator-key');
    registry.close();
  });
});

describe('tenant keys', () => {
  it('shows the secret once and stores only its hash', () => {
    const { registry, acmeKey } = openWithTenants(dir);
    const listed = registry.keys.list(ADMIN);
    expect(listed.map((k) => k.id)).toContain(acmeKey.id);
    expect(JSON.stringify(listed)).not.toContain(acmeKey.secret.slice(20));
    const onDisk = databaseBytes(dir);
    expect(onDisk.includes(acmeKey.secret)).toBe(false);
    expect(onDisk.includes(acmeKey.secret.slice(20))).toBe(false); // the random part alone
    registry.close();
    expect(databaseBytes(dir).includes(acmeKey.secret.slice(20))).toBe(false); // after checkpoint too
  });

  it('authenticates the exact key only', () => {
    const { registry, acmeKey } = openWithTenants(dir);
    expect(registry.keys.authenticate(acmeKey.secret)).toEqual({ keyId: acmeKey.id, tenantId: 'acme' });
    const flipped = acmeKey.secret.slice(0, -1) + (acmeKey.secret.endsWith('A') ? 'B' : 'A');
    expect(registry.keys.authenticate(flipped)).toBeNull();
    expect(registry.keys.authenticate(`fn_0000000000000000_${acmeKey.secret.slice(20)}`)).toBeNull();
    expect(registry.keys.authenticate('')).toBeNull();
    expect(registry.keys.authenticate('x'.repeat(5000))).toBeNull();
    expect(registry.keys.authenticate(undefined)).toBeNull();
    registry.close();
  });

  it('stops authenticating a revoked key', () => {
    const { registry, acme, acmeKey } = openWithTenants(dir);
    const revoked = registry.keys.revoke(acme, acmeKey.id); // a tenant may revoke its own key
    expect(revoked.revokedAt).not.toBeNull();
    expect(registry.keys.authenticate(acmeKey.secret)).toBeNull();
    expect(registry.keys.revoke(ADMIN, acmeKey.id).revokedAt).toBe(revoked.revokedAt); // twice: harmless
    expect(() => registry.keys.revoke(ADMIN, 'ffffffffffffffff')).toThrow(NotFoundError);
    registry.close();
  });

  it('lets only an admin create keys and tenants', () => {
    const { registry, acme } = openWithTenants(dir);
    expect(() => registry.keys.create(acme, 'acme', 'more')).toThrow(ForbiddenError);
    expect(() => registry.keys.create(acme, 'admin', 'escalate')).toThrow(ForbiddenError);
    expect(() => registry.tenants.create(acme, 'initech')).toThrow(ForbiddenError);
    expect(() => registry.keys.create(ADMIN, 'initech', 'x')).toThrow(NotFoundError);
    expect(() => registry.tenants.create(ADMIN, 'acme')).toThrow(ConflictError);
    expect(() => registry.tenants.create(ADMIN, 'admin')).toThrow(ValidationError);
    expect(() => registry.tenants.create(ADMIN, 'Not_Valid')).toThrow(ValidationError);
    registry.close();
  });

  it('never revokes the last admin key', () => {
    const registry = Registry.open(dir);
    const first = registry.keys.ensureAdminKey()!;
    expect(() => registry.keys.revoke(ADMIN, first.id)).toThrow(ConflictError);
    const second = registry.keys.create(ADMIN, 'admin', 'second admin');
    registry.keys.revoke(ADMIN, first.id);
    expect(registry.keys.authenticate(first.secret)).toBeNull();
    expect(registry.keys.authenticate(second.secret)).toEqual({ keyId: second.id, tenantId: null });
    registry.close();
  });
});
