/**
 * The asynchronous-invocation queue of the one-process platform (`fn up` with no NATS): one SQLite
 * file, <data>/async.db, beside the registry's fn.db (its own file, so neither's schema or locks
 * get in the other's way). Same semantics as the JetStream queue:
 *
 *   jobs          the queue: a job is leased while it runs, deleted when done, due again later on
 *                 retry; leases do not survive the process, so a job that was running when fn up
 *                 stopped (or was killed) is delivered again, as one more attempt, after a restart
 *   records       the status and result of each invocation, kept RECORD_RETENTION_MS (24 h)
 *   dead_letters  jobs that used up their attempts, with their last record, kept 7 days
 *
 * Every write is a transaction with synchronous = FULL: an invocation answered 202 is on disk.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { newRecord, RECORD_RETENTION_MS, type AsyncJob, type AsyncQueue, type Delivery, type InvocationRecord } from '@fn/gateway';

export const ASYNC_DB_FILE = 'async.db';
const DEAD_LETTER_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;

interface JobRow {
  id: string;
  meta: string;
  body: Buffer;
  attempt: number;
}

export class SqliteAsyncQueue implements AsyncQueue {
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly sweeper: NodeJS.Timeout;

  private readonly statements = new Map<string, Database.Statement>();

  private constructor(private readonly db: Database.Database) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
  }

  static open(dataDir: string): SqliteAsyncQueue {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const path = join(dataDir, ASYNC_DB_FILE);
    // Owner only: queued requests carry the callers' headers and bodies.
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    else chmodSync(path, 0o600);
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(`
        CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, meta TEXT NOT NULL, body BLOB NOT NULL,
          attempt INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL, leased INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS jobs_due ON jobs (leased, due_at);
        CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, record TEXT NOT NULL, expires_at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_at);
        CREATE TABLE IF NOT EXISTS dead_letters (id TEXT PRIMARY KEY, meta TEXT NOT NULL, body BLOB NOT NULL, record TEXT NOT NULL, at INTEGER NOT NULL);
      `);
      // Whoever held these leases is gone (this is a new process): they are due again.
      db.prepare('UPDATE jobs SET leased = 0 WHERE leased = 1').run();
    } catch (error) {
      db.close();
      throw error;
    }
    const queue = new SqliteAsyncQueue(db);
    queue.sweep();
    return queue;
  }

  async enqueue(job: AsyncJob): Promise<void> {
    this.open();
    const { body, ...request } = job.request;
    const record = newRecord(job);
    this.db.transaction(() => {
      this.sql('INSERT INTO records (id, record, expires_at) VALUES (?, ?, ?)').run(job.id, JSON.stringify(record), job.createdAt + RECORD_RETENTION_MS);
      this.sql('INSERT INTO jobs (id, meta, body, due_at) VALUES (?, ?, ?, ?)').run(
        job.id,
        JSON.stringify({ ...job, request }),
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        job.createdAt,
      );
    })();
    this.wake();
  }

  async record(id: string): Promise<InvocationRecord | undefined> {
    this.open();
    const row = this.sql('SELECT record FROM records WHERE id = ? AND expires_at > ?').get(id, Date.now()) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as InvocationRecord) : undefined;
  }

  async update(id: string, change: (current: InvocationRecord | undefined) => InvocationRecord | undefined): Promise<InvocationRecord | undefined> {
    this.open();
    // One transaction: read, change, write. No other writer can come in between.
    return this.db.transaction((): InvocationRecord | undefined => {
      const row = this.sql('SELECT record FROM records WHERE id = ?').get(id) as { record: string } | undefined;
      const current = row ? (JSON.parse(row.record) as InvocationRecord) : undefined;
      const next = change(current);
      if (!next) return current;
      this.sql('INSERT INTO records (id, record, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record').run(
        id,
        JSON.stringify(next),
        next.createdAt + RECORD_RETENTION_MS,
      );
      return next;
    })();
  }

  async next(waitMs: number): Promise<Delivery | undefined> {
    const until = Date.now() + waitMs;
    while (!this.closed) {
      const row = this.lease();
      if (row) return this.delivery(row);
      const now = Date.now();
      if (now >= until) return undefined;
      const due = this.sql('SELECT MIN(due_at) AS at FROM jobs WHERE leased = 0').get() as { at: number | null };
      const wait = Math.max(1, Math.min(until, due.at ?? until) - now);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        this.waiters.add(done);
      });
    }
    return undefined;
  }

  async deadLetter(job: AsyncJob, record: InvocationRecord): Promise<void> {
    this.open();
    const { body, ...request } = job.request;
    this.sql('INSERT OR REPLACE INTO dead_letters (id, meta, body, record, at) VALUES (?, ?, ?, ?, ?)').run(
      job.id,
      JSON.stringify({ ...job, request }),
      Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      JSON.stringify(record),
      Date.now(),
    );
  }

  /** The dead-lettered jobs' ids, oldest first (for operators and tests). */
  deadLetters(): string[] {
    return (this.sql('SELECT id FROM dead_letters ORDER BY at').all() as { id: string }[]).map((r) => r.id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.wake();
    this.db.close();
  }

  private lease(): JobRow | undefined {
    return this.db.transaction((): JobRow | undefined => {
      const row = this.sql('SELECT id FROM jobs WHERE leased = 0 AND due_at <= ? ORDER BY due_at LIMIT 1').get(Date.now()) as { id: string } | undefined;
      if (!row) return undefined;
      return this.sql('UPDATE jobs SET leased = 1, attempt = attempt + 1 WHERE id = ? RETURNING id, meta, body, attempt').get(row.id) as JobRow;
    })();
  }

  private delivery(row: JobRow): Delivery {
    const meta = JSON.parse(row.meta) as Omit<AsyncJob, 'request'> & { request: Omit<AsyncJob['request'], 'body'> };
    const job: AsyncJob = { ...meta, request: { ...meta.request, body: new Uint8Array(row.body) } };
    return {
      job,
      attempt: row.attempt,
      done: async () => {
        if (!this.closed) this.sql('DELETE FROM jobs WHERE id = ?').run(row.id);
      },
      retry: async (delayMs) => {
        if (this.closed) return;
        this.sql('UPDATE jobs SET leased = 0, due_at = ? WHERE id = ?').run(Date.now() + delayMs, row.id);
        this.wake();
      },
      working: () => {},
    };
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private sweep(): void {
    if (this.closed) return;
    const now = Date.now();
    this.sql('DELETE FROM records WHERE expires_at <= ?').run(now);
    this.sql('DELETE FROM dead_letters WHERE at <= ?').run(now - DEAD_LETTER_RETENTION_MS);
  }

  /** Each statement prepared once and reused (enqueue and lease run per invocation). */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  private open(): void {
    if (this.closed) throw new Error('the asynchronous-invocation queue is closed');
  }
}
