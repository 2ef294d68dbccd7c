// What invocations read is served from memory, and every change — through this registry or any
// other connection to the same data directory (another process) — takes effect on the very next
// lookup. `tick()` stands for the gap between two invocations (each is its own task).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN } from './caller.js';
import { Registry } from './registry.js';
import { deployInput, openWithTenants, tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let registry: Registry;
let other: Registry;
let acmeSecret: string;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  const opened = openWithTenants(dir);
  registry = opened.registry;
  acmeSecret = opened.acmeKey.secret;
  registry.functions.createVersion(deployInput('acme', 'api', 'a', { env: { MODE: 'prod' } }));
  registry.env.setSecret('acme', 'api', 'TOKEN', 'first');
  other = Registry.open(dir);
});
afterEach(async () => {
  other.close();
  registry.close();
  await cleanup();
});

const tick = () => new Promise((resolve) => setImmediate(resolve));
const envOf = (r: Registry) => r.env.envForInvocation('acme', 'api', r.functions.resolveForInvocation(ADMIN, 'acme', 'api'));

describe('cached for invocations', () => {
  it('answers repeated lookups from memory: the same objects, frozen', async () => {
    const first = registry.functions.resolveForInvocation(ADMIN, 'acme', 'api');
    await tick();
    expect(registry.functions.resolveForInvocation(ADMIN, 'acme', 'api')).toBe(first);
    expect(Object.isFrozen(first.env)).toBe(true);
    const env = envOf(registry);
    await tick();
    expect(envOf(registry)).toBe(env);
    expect(env).toEqual({ MODE: 'prod', TOKEN: 'first' });
    expect(registry.keys.authenticate(acmeSecret)).toBe(registry.keys.authenticate(acmeSecret));
  });
});

describe('a change takes effect on the next invocation', () => {
  it('a changed secret, through this registry', async () => {
    expect(envOf(registry).TOKEN).toBe('first');
    registry.env.setSecret('acme', 'api', 'TOKEN', 'rotated');
    expect(envOf(registry).TOKEN).toBe('rotated');
    registry.env.unsetSecret('acme', 'api', 'TOKEN');
    expect(envOf(registry)).toEqual({ MODE: 'prod' });
  });

  it('a changed secret, from another process', async () => {
    expect(envOf(registry).TOKEN).toBe('first');
    other.env.setSecret('acme', 'api', 'TOKEN', 'rotated elsewhere');
    await tick();
    expect(envOf(registry).TOKEN).toBe('rotated elsewhere');
  });

  it('a revoked key, through this registry and from another process', async () => {
    const keyId = registry.keys.authenticate(acmeSecret)!.keyId;
    registry.keys.revoke(ADMIN, keyId);
    expect(registry.keys.authenticate(acmeSecret)).toBeNull();

    const second = registry.keys.create(ADMIN, 'acme', 'second');
    expect(registry.keys.authenticate(second.secret)).toMatchObject({ tenantId: 'acme' });
    other.keys.revoke(ADMIN, second.id);
    await tick();
    expect(registry.keys.authenticate(second.secret)).toBeNull();
  });

  it('a new live version (deploy, rollback, env change), from another process', async () => {
    expect(registry.functions.resolveForInvocation(ADMIN, 'acme', 'api').version).toBe(1);
    other.env.setEnv('acme', 'api', { MODE: 'staging' });
    await tick();
    const live = registry.functions.resolveForInvocation(ADMIN, 'acme', 'api');
    expect(live.version).toBe(2);
    expect(envOf(registry).MODE).toBe('staging');
    other.functions.rollback('acme', 'api');
    await tick();
    expect(registry.functions.resolveForInvocation(ADMIN, 'acme', 'api').version).toBe(1);
  });

  it('a deleted function is not found any more', async () => {
    registry.functions.resolveForInvocation(ADMIN, 'acme', 'api');
    other.functions.delete('acme', 'api');
    await tick();
    expect(() => registry.functions.resolveForInvocation(ADMIN, 'acme', 'api')).toThrow(/does not exist/);
  });
});
