import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';
import { RegistryVersionError } from './errors.js';
import { MIGRATIONS, migrate, schemaVersion } from './migrations.js';
import { Registry } from './registry.js';
import { tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const LATEST = MIGRATIONS.at(-1)!.version;

describe('migrations', () => {
  it('creates the schema on first open and applies nothing on later opens', () => {
    Registry.open(dir).close();
    Registry.open(dir).close();
    const db = openDatabase(dir);
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(migrate(db)).toEqual([]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('applies only the migrations the database lacks', () => {
    Registry.open(dir).close();
    const db = openDatabase(dir);
    const next = { version: LATEST + 1, name: 'add-notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY) STRICT' };
    expect(migrate(db, [...MIGRATIONS, next])).toEqual([LATEST + 1]);
    expect(migrate(db, [...MIGRATIONS, next])).toEqual([]);
    expect(schemaVersion(db)).toBe(LATEST + 1);
    db.close();
  });

  it('leaves the previous schema intact when a migration fails halfway', () => {
    Registry.open(dir).close();
    const db = openDatabase(dir);
    const broken = { version: LATEST + 1, name: 'broken', sql: 'CREATE TABLE half (id INTEGER); THIS IS NOT SQL' };
    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow();
    expect(schemaVersion(db)).toBe(LATEST);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database written by a newer schema, saying what to do', () => {
    Registry.open(dir).close();
    const db = openDatabase(dir);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST + 5, 'from-the-future', 0);
    db.close();
    let error: unknown;
    try {
      Registry.open(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegistryVersionError);
    expect((error as RegistryVersionError).found).toBe(LATEST + 5);
    expect((error as RegistryVersionError).supported).toBe(LATEST);
    expect((error as Error).message).toMatch(/written by a newer fn.*restore a backup/);
    // The refused open closed its connection: the file can still be repaired and reopened.
    const again = openDatabase(dir);
    again.prepare('DELETE FROM schema_migrations WHERE version > ?').run(LATEST);
    again.close();
    Registry.open(dir).close();
  });
});
