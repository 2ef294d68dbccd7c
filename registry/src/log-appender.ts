/**
 * A connection that only appends invocation logs: what the gateway's log writer thread opens
 * (gateway/src/log-writer-thread.ts). Registry.open would migrate, open the secrets key and run
 * log retention, none of which a second connection to a directory its own Registry already opened
 * needs (retention is the Registry's schedule; a migration here would race it): this one checks
 * the schema is the one this build writes and stops there.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from './db.js';
import { RegistryVersionError } from './errors.js';
import { LogStore, type LogRecord } from './logs.js';
import { MIGRATIONS, schemaVersion } from './migrations.js';
import type { AppendLogInput } from './schemas.js';

export class LogAppender {
  private readonly store: LogStore;

  private constructor(private readonly db: Database.Database) {
    // Retention never runs through this connection, so its policy is never read.
    this.store = new LogStore(db, Date.now, { maxAgeDays: Number.POSITIVE_INFINITY, maxPerFunction: Number.POSITIVE_INFINITY });
  }

  static open(dataDir: string, options: { busyTimeoutMs?: number } = {}): LogAppender {
    const db = openDatabase(dataDir, options);
    try {
      const latest = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
      const found = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() ? schemaVersion(db) : 0;
      if (found !== latest) {
        throw new RegistryVersionError(
          `fn.db in ${dataDir} has schema version ${found}, the log writer of this build writes version ${latest}: open the data directory with Registry.open first (it applies migrations)`,
          found,
          latest,
        );
      }
      return new LogAppender(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** As Registry.logs.append: one transaction for the batch. */
  append(records: AppendLogInput | AppendLogInput[]): LogRecord[] {
    return this.store.append(records);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
