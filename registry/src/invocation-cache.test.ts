// What invocations read is served from memory, and every change — through this registry or any
// other connection to the same data directory (another process) — takes effect on the very next
// lookup. `tick()` stands for the gap between two invocations (each is its own task).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN } from './caller.js';
import { DB_FILE } from './db.js';
import { LogAppender } from './log-appender.js';
import { UNWATCHED_TABLES } from './migrations.js';
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

describe('invocation logs are not a registry change', () => {
  const logRecord = (invocationId: string) => ({
    tenant: 'acme',
    function: 'api',
    version: 1,
    invocationId,
    status: 'ok' as const,
    durationMs: 1,
    cold: false,
    logs: [],
  });

  it('a log batch from the log writer’s connection, or through this registry, keeps the caches', async () => {
    const appender = LogAppender.open(dir);
    try {
      const version = registry.functions.resolveForInvocation(ADMIN, 'acme', 'api');
      const env = envOf(registry);
      const caller = registry.keys.authenticate(acmeSecret);
      appender.append([logRecord('from-the-thread')]); // another connection's commit: data_version moves
      await tick();
      expect(registry.functions.resolveForInvocation(ADMIN, 'acme', 'api')).toBe(version);
      expect(envOf(registry)).toBe(env);
      expect(registry.keys.authenticate(acmeSecret)).toBe(caller);
      registry.logs.append(logRecord('on-this-connection')); // total_changes moves
      expect(registry.functions.resolveForInvocation(ADMIN, 'acme', 'api')).toBe(version);
      expect(registry.logs.query('acme', 'api').records.map((r) => r.invocationId)).toEqual(['from-the-thread', 'on-this-connection']);
    } finally {
      appender.close();
    }
  });

  it('a registry change right after a log batch still drops them', async () => {
    const appender = LogAppender.open(dir);
    try {
      expect(envOf(registry).TOKEN).toBe('first');
      appender.append([logRecord('a')]);
      other.env.setSecret('acme', 'api', 'TOKEN', 'rotated');
      await tick();
      expect(envOf(registry).TOKEN).toBe('rotated');
      appender.append([logRecord('b')]);
      registry.env.setSecret('acme', 'api', 'TOKEN', 'again');
      expect(envOf(registry).TOKEN).toBe('again');
    } finally {
      appender.close();
    }
  });

  it('every table but the logs has the triggers that count a change', () => {
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).filter((t) => !UNWATCHED_TABLES.includes(t));
      const triggers = db.prepare("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").all() as { tbl_name: string; sql: string }[];
      expect(tables.length).toBeGreaterThan(5);
      for (const table of tables) {
        const events = triggers.filter((t) => t.tbl_name === table && t.sql.includes('change_generation')).map((t) => /AFTER (\w+)/.exec(t.sql)![1]);
        expect(events.sort(), `${table}: a table the caches may read needs its change_generation triggers`).toEqual(['DELETE', 'INSERT', 'UPDATE']);
      }
      expect(triggers.filter((t) => t.tbl_name === 'invocation_logs')).toEqual([]);
    } finally {
      db.close();
    }
  });
});

describe('LogAppender', () => {
  it('refuses a directory whose schema is not the one it writes, and says what to do', async () => {
    const { dir: fresh, cleanup: done } = await tempDir();
    try {
      expect(() => LogAppender.open(fresh)).toThrow(
        /schema version 0, the log writer of this build writes version \d+: open the data directory with Registry\.open first/,
      );
    } finally {
      await done();
    }
  });
});
