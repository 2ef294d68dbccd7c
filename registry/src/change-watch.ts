/**
 * Tells whether the registry may have changed since a moment ago, cheaply enough to ask on every
 * invocation: the caches of read-cache.ts ask it before they answer from memory.
 *
 *   change_generation   a counter that triggers move on every write to a table the caches read
 *                       from (migration 2); invocation logs do not move it.
 *   total_changes()     rows this connection changed, ever (~1 µs), and
 *   data_version        moves when another connection commits (~8 µs; read once per synchronous
 *                       run of JavaScript and reused until the next microtask: another process's
 *                       commit cannot be ordered within one run anyway).
 *
 * The counter is read (~3 µs) only when one of the last two moved, so an invocation pays for the
 * cheap checks alone while nothing is written. A log batch (the log writer thread commits every
 * ~50 ms under load) moves data_version, costs one counter read, and leaves the caches alone; any
 * other change moves the counter and the caches drop everything (conservative, and such writes
 * are rare next to invocations).
 */
import type Database from 'better-sqlite3';

export class ChangeWatch {
  private readonly ownChanges: Database.Statement;
  private readonly dataVersion: Database.Statement;
  private readonly counter: Database.Statement;
  private otherVersion: number | undefined;
  private lastCheap: string | undefined;
  private lastCounter = 0;

  constructor(db: Database.Database) {
    this.ownChanges = db.prepare('SELECT total_changes()').pluck();
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.counter = db.prepare('SELECT n FROM change_generation WHERE id = 1').pluck();
  }

  /** A value that differs from the one returned before whenever the registry changed in between. */
  generation(): string {
    if (this.otherVersion === undefined) {
      this.otherVersion = this.dataVersion.get() as number;
      queueMicrotask(() => (this.otherVersion = undefined));
    }
    const cheap = `${this.ownChanges.get() as number}/${this.otherVersion}`;
    if (cheap !== this.lastCheap) {
      this.lastCheap = cheap;
      this.lastCounter = this.counter.get() as number;
    }
    return String(this.lastCounter);
  }
}
