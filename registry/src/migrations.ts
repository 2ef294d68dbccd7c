/**
 * Numbered schema migrations. Each runs once, inside the same IMMEDIATE transaction as the
 * schema_migrations row that records it, so a crash mid-migration leaves the previous schema
 * intact and two processes opening a fresh database at once apply each migration exactly once.
 * Never edit a released migration: add the next number.
 */
import type Database from 'better-sqlite3';
import { RegistryVersionError } from './errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      -- A tenant's id is its name: it is unique, validated, and what URLs and the CLI use.
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      ) STRICT;

      -- hash = sha256 of the whole key string; the key itself is never stored.
      -- tenant_id NULL is the admin principal. Revoked keys stay for the audit trail.
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        tenant_id TEXT REFERENCES tenants(id),
        label TEXT NOT NULL,
        hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

      CREATE TABLE functions (
        id INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (tenant_id, name)
      ) STRICT;

      -- Outlives its function, so a function deleted and deployed again never reuses a version
      -- number: logs and caches keyed by (tenant, name, version) can't mix the two up.
      CREATE TABLE version_counters (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        function_name TEXT NOT NULL,
        last_version INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, function_name)
      ) STRICT;

      CREATE TABLE versions (
        function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        bundle_digest TEXT NOT NULL,
        snapshot_digest TEXT NOT NULL,
        config TEXT NOT NULL,
        env TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (function_id, version)
      ) STRICT;

      -- The composite foreign key is what makes "an alias points at an existing version" a
      -- database rule rather than a convention.
      CREATE TABLE aliases (
        function_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (function_id, name),
        FOREIGN KEY (function_id, version) REFERENCES versions(function_id, version) ON DELETE CASCADE
      ) STRICT;

      -- sealed = AES-256-GCM box (see secret-box.ts), never the plain value.
      CREATE TABLE secrets (
        function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sealed BLOB NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (function_id, name)
      ) STRICT;

      -- No foreign key to functions: logs outlive a deleted function until retention removes
      -- them. AUTOINCREMENT so ids are never reused after retention deletes the newest rows:
      -- a follower's afterId cursor must never see an id twice.
      CREATE TABLE invocation_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        function_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        invocation_id TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_ms REAL NOT NULL,
        cold INTEGER NOT NULL,
        lines TEXT NOT NULL,
        at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX invocation_logs_function ON invocation_logs(tenant_id, function_name, id);
      CREATE INDEX invocation_logs_at ON invocation_logs(at);
    `,
  },
  {
    version: 2,
    name: 'change generation',
    // The caches of what invocations read (read-cache.ts) drop on any change to the registry.
    // SQLite's data_version moves on every commit by another connection, the log writer's
    // included (every ~50 ms under load), so it alone would empty them all the time: this counter
    // moves only when a table the caches read from changes (change-watch.ts). A new table needs
    // its three triggers too (change-watch.test.ts checks that every table has them).
    sql: `
      CREATE TABLE change_generation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        n INTEGER NOT NULL
      ) STRICT;
      INSERT INTO change_generation (id, n) VALUES (1, 0);
      CREATE TRIGGER meta_insert_counts AFTER INSERT ON meta BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER meta_update_counts AFTER UPDATE ON meta BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER meta_delete_counts AFTER DELETE ON meta BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER tenants_insert_counts AFTER INSERT ON tenants BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER tenants_update_counts AFTER UPDATE ON tenants BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER tenants_delete_counts AFTER DELETE ON tenants BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER api_keys_insert_counts AFTER INSERT ON api_keys BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER api_keys_update_counts AFTER UPDATE ON api_keys BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER api_keys_delete_counts AFTER DELETE ON api_keys BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER functions_insert_counts AFTER INSERT ON functions BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER functions_update_counts AFTER UPDATE ON functions BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER functions_delete_counts AFTER DELETE ON functions BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER version_counters_insert_counts AFTER INSERT ON version_counters BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER version_counters_update_counts AFTER UPDATE ON version_counters BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER version_counters_delete_counts AFTER DELETE ON version_counters BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER versions_insert_counts AFTER INSERT ON versions BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER versions_update_counts AFTER UPDATE ON versions BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER versions_delete_counts AFTER DELETE ON versions BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER aliases_insert_counts AFTER INSERT ON aliases BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER aliases_update_counts AFTER UPDATE ON aliases BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER aliases_delete_counts AFTER DELETE ON aliases BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER secrets_insert_counts AFTER INSERT ON secrets BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER secrets_update_counts AFTER UPDATE ON secrets BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
      CREATE TRIGGER secrets_delete_counts AFTER DELETE ON secrets BEGIN UPDATE change_generation SET n = n + 1 WHERE id = 1; END;
    `,
  },
];

/** Tables whose writes do not count as a registry change (change_generation's triggers leave them out). */
export const UNWATCHED_TABLES: readonly string[] = ['invocation_logs', 'schema_migrations', 'change_generation', 'sqlite_sequence'];

/** Applies every migration newer than the database's; refuses a database newer than `migrations`. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, now: number = Date.now()): number[] {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const apply = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    const current = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
    if (current > latest) {
      throw new RegistryVersionError(
        `fn.db has schema version ${current}, but this build of fn knows versions up to ${latest}: ` +
          'it was written by a newer fn. Run that newer fn, or restore a backup of the data directory made with this one.',
        current,
        latest,
      );
    }
    const applied: number[] = [];
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, now);
      applied.push(m.version);
    }
    return applied;
  });
  // IMMEDIATE takes the write lock before reading the current version, so a second process
  // waits (busy_timeout) and then sees the first one's migrations instead of re-running them.
  return apply.immediate();
}

export function schemaVersion(db: Database.Database): number {
  return (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
}
