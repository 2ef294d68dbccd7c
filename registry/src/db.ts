/**
 * Opens dataDir/fn.db with the settings every registry connection needs. Kept apart from the
 * Registry so tests can open the raw database (to plant a newer schema, or read what is on disk).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const DB_FILE = 'fn.db';

export interface DbOptions {
  /** How long a writer waits for another process's transaction before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

export function openDatabase(dataDir: string, options: DbOptions = {}): Database.Database {
  // 0700: the directory holds key hashes, the secrets key and every function's metadata.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, DB_FILE);
  ownerOnly(path);
  const db = new Database(path);
  try {
    // busy_timeout first: switching to WAL needs a lock another opener may briefly hold.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    // WAL: readers never block the writer (gateway reads while a deploy writes), and a crash
    // leaves a log SQLite replays or discards on the next open, never a torn database.
    db.pragma('journal_mode = WAL');
    // FULL: a committed deploy survives power loss, not only a process crash. Callers that write
    // at invocation rate (logs) batch several records per transaction to share the fsync.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * fn.db readable and writable by its owner only (0600; it was 0644 under the usual umask): it holds
 * key hashes, sealed secrets and every function's metadata. Created so before SQLite opens it, and
 * tightened if an older start left it looser; SQLite gives its -wal and -shm files the same mode.
 */
function ownerOnly(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
}
