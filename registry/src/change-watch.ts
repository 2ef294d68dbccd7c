/**
 * Tells whether the database may have changed since a moment ago, cheaply enough to ask on every
 * invocation: the caches of read-cache.ts ask it before they answer from memory.
 *
 *   total_changes()   rows this connection changed, ever: any write through this Registry
 *                     (a revoked key, a new version, a set secret, a log batch) moves it. ~1 µs.
 *   data_version      moves when another connection (another process) commits. ~8 µs, so it is
 *                     read once per synchronous run of JavaScript and reused until the next
 *                     microtask: another process's commit cannot be ordered within one run anyway.
 *
 * Either moving is a change; the caches then drop everything (conservative, and writes are rare
 * next to invocations).
 */
import type Database from 'better-sqlite3';

export class ChangeWatch {
  private readonly ownChanges: Database.Statement;
  private readonly dataVersion: Database.Statement;
  private otherVersion: number | undefined;

  constructor(db: Database.Database) {
    this.ownChanges = db.prepare('SELECT total_changes()').pluck();
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  /** A value that differs from the one returned before whenever the database changed in between. */
  generation(): string {
    if (this.otherVersion === undefined) {
      this.otherVersion = this.dataVersion.get() as number;
      queueMicrotask(() => (this.otherVersion = undefined));
    }
    return `${this.ownChanges.get() as number}/${this.otherVersion}`;
  }
}
