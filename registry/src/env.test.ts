import { copyFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { Registry } from './registry.js';
import { SECRETS_KEY_FILE, SecretUnreadableError } from './secret-box.js';
import { databaseBytes, deployInput, digest, openWithTenants, tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let registry: Registry;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  ({ registry } = openWithTenants(dir));
  registry.functions.createVersion(deployInput('acme', 'api', 'a', { env: { MODE: 'prod' } }));
});
afterEach(async () => {
  registry.close();
  await cleanup();
});

const SECRET = 'postgres://app:Sup3r-S3cret-Pa55@db/app';

describe('environment variables', () => {
  it('publish a new version with the same bundle and snapshot, and move live to it', () => {
    const change = registry.env.setEnv('acme', 'api', { LOG_LEVEL: 'debug' });
    expect(change.published).toBe(true);
    expect(change.version).toMatchObject({
      version: 2,
      bundleDigest: digest('bundle:a'),
      snapshotDigest: digest('snapshot:a'),
      env: { LOG_LEVEL: 'debug', MODE: 'prod' },
    });
    expect(registry.functions.resolve('acme', 'api').version).toBe(2);
    expect(registry.functions.resolve('acme', 'api', 1).env).toEqual({ MODE: 'prod' }); // versions are immutable
    const unset = registry.env.unsetEnv('acme', 'api', ['MODE', 'NOT_SET']);
    expect(unset.version).toMatchObject({ version: 3, env: { LOG_LEVEL: 'debug' } });
  });

  it('publish nothing when nothing changes', () => {
    const same = registry.env.setEnv('acme', 'api', { MODE: 'prod' });
    expect(same).toMatchObject({ published: false, version: { version: 1 } });
    expect(registry.env.unsetEnv('acme', 'api', ['ABSENT']).published).toBe(false);
    expect(registry.functions.versions('acme', 'api')).toHaveLength(1);
  });

  it('start from the live version, so a change after a rollback keeps the rolled-back code', () => {
    registry.functions.createVersion(deployInput('acme', 'api', 'bad-release'));
    registry.functions.rollback('acme', 'api'); // live → 1
    const change = registry.env.setEnv('acme', 'api', { FLAG: 'on' });
    expect(change.version).toMatchObject({ version: 3, snapshotDigest: digest('snapshot:a'), env: { FLAG: 'on', MODE: 'prod' } });
  });

  it('are validated', () => {
    expect(() => registry.env.setEnv('acme', 'api', { '1BAD': 'x' })).toThrow(ValidationError);
    expect(() => registry.env.setEnv('acme', 'api', { BIG: 'x'.repeat(40_000) })).toThrow(ValidationError);
    // An own "__proto__" key (from JSON) is refused, never stored as a name nor silently dropped.
    expect(() => registry.env.setEnv('acme', 'api', JSON.parse('{"__proto__":"x","OK":"1"}') as Record<string, string>)).toThrow(ValidationError);
    expect(() => registry.env.setSecret('acme', 'api', '__proto__', 'x')).toThrow(ValidationError);
    expect(() => registry.env.setEnv('acme', 'nope', { A: 'b' })).toThrow(NotFoundError);
  });
});

describe('secrets', () => {
  it('are returned by secretsForInvocation only: every other read shows names', () => {
    registry.env.setSecret('acme', 'api', 'DATABASE_URL', SECRET);
    expect(registry.env.secretsForInvocation('acme', 'api')).toEqual({ DATABASE_URL: SECRET });
    expect(registry.env.secretNames('acme', 'api')).toEqual(['DATABASE_URL']);
    const described = registry.functions.describe('acme', 'api');
    expect(described.secrets).toEqual(['DATABASE_URL']);
    const everyRead = JSON.stringify([
      described,
      registry.functions.list('acme'),
      registry.functions.versions('acme', 'api'),
      registry.functions.resolve('acme', 'api'),
      registry.functions.aliases('acme', 'api'),
    ]);
    expect(everyRead).not.toContain(SECRET);
    expect(everyRead).not.toContain('Sup3r');
  });

  it('are sealed on disk', () => {
    registry.env.setSecret('acme', 'api', 'DATABASE_URL', SECRET);
    expect(databaseBytes(dir).includes('Sup3r-S3cret')).toBe(false);
    registry.close();
    expect(databaseBytes(dir).includes('Sup3r-S3cret')).toBe(false);
    registry = Registry.open(dir);
    expect(registry.env.secretsForInvocation('acme', 'api')).toEqual({ DATABASE_URL: SECRET });
  });

  it('are not versioned: a rollback keeps the rotated value', () => {
    registry.env.setSecret('acme', 'api', 'TOKEN', 'old');
    registry.functions.createVersion(deployInput('acme', 'api', 'b'));
    registry.env.setSecret('acme', 'api', 'TOKEN', 'rotated');
    registry.functions.rollback('acme', 'api');
    expect(registry.functions.versions('acme', 'api')).toHaveLength(2);
    expect(registry.env.secretsForInvocation('acme', 'api')).toEqual({ TOKEN: 'rotated' });
    expect(registry.env.unsetSecret('acme', 'api', 'TOKEN')).toBe(true);
    expect(registry.env.unsetSecret('acme', 'api', 'TOKEN')).toBe(false);
    expect(registry.env.secretsForInvocation('acme', 'api')).toEqual({});
  });

  it('cannot share a name with an env var', () => {
    expect(() => registry.env.setSecret('acme', 'api', 'MODE', 'x')).toThrow(ConflictError);
    registry.env.setSecret('acme', 'api', 'TOKEN', 'x');
    expect(() => registry.env.setEnv('acme', 'api', { TOKEN: 'y' })).toThrow(ConflictError);
    expect(() => registry.functions.createVersion(deployInput('acme', 'api', 'c', { env: { TOKEN: 'y' } }))).toThrow(ConflictError);
  });

  it('never put the value in an error', () => {
    const huge = `LEAK-${'s'.repeat(40_000)}`;
    let error: Error | undefined;
    try {
      registry.env.setSecret('acme', 'api', 'BIG', huge);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(JSON.stringify({ message: error!.message, cause: String(error!.cause), issues: (error as ValidationError).issues })).not.toContain('LEAK');
  });

  it('go with their function when it is deleted', () => {
    registry.env.setSecret('acme', 'api', 'TOKEN', 'x');
    registry.functions.delete('acme', 'api');
    registry.functions.createVersion(deployInput('acme', 'api'));
    expect(registry.env.secretsForInvocation('acme', 'api')).toEqual({});
  });

  it('refuse to open with another secrets.key, saying what to do and not what the value was', () => {
    registry.env.setSecret('acme', 'api', 'TOKEN', 'value-123');
    registry.close();
    copyFileSync(join(dir, SECRETS_KEY_FILE), join(dir, 'secrets.key.bak'));
    writeFileSync(join(dir, SECRETS_KEY_FILE), randomBytes(32));
    registry = Registry.open(dir);
    expect(() => registry.env.secretsForInvocation('acme', 'api')).toThrow(SecretUnreadableError);
    expect(() => registry.env.secretsForInvocation('acme', 'api')).toThrow(/Restore the original secrets.key, or set the secret again/);
    registry.env.setSecret('acme', 'api', 'TOKEN', 'value-456');
    expect(registry.env.secretsForInvocation('acme', 'api')).toEqual({ TOKEN: 'value-456' });
  });
});

describe('__proto__ as a name (issue 13, hole 7)', () => {
  it('is refused with a clear error, not accepted and silently dropped', async () => {
    const { dir, cleanup } = await tempDir();
    const { registry } = openWithTenants(dir);
    registry.functions.createVersion(deployInput('acme', 'api'));
    expect(() => registry.env.setEnv('acme', 'api', JSON.parse('{"__proto__": "x"}') as Record<string, string>)).toThrow(/__proto__ is not allowed/);
    expect(registry.functions.versions('acme', 'api')).toHaveLength(1);
    registry.close();
    await cleanup();
  });
});
