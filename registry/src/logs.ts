/**
 * Invocation logs: one record per invocation (status, duration, cold or warm, console lines).
 * Records are keyed by (tenant, function name), not by the function row, so they outlive a
 * deleted function until retention removes them, and a query is always scoped by the caller's
 * tenant. Ids only grow (AUTOINCREMENT, and SQLite's single writer commits them in order), so
 * `afterId` is a cursor a follower can poll with without missing or repeating a record.
 */
import type Database from 'better-sqlite3';
import { AppendLogInput, FunctionName, LogQuery, parse, type InvocationStatus, type LogLine, type LogQueryInput } from './schemas.js';
import { requireTenant } from './tenants.js';
import { sql } from './statements.js';

export interface LogRecord {
  id: number;
  tenant: string;
  function: string;
  version: number;
  invocationId: string;
  status: InvocationStatus;
  durationMs: number;
  cold: boolean;
  logs: LogLine[];
  at: number;
}

export interface LogPage {
  /** Oldest first. */
  records: LogRecord[];
  /** Pass as afterId to get only newer records (the last id returned, or afterId if none). */
  cursor: number;
}

export interface RetentionPolicy {
  /** Records whose invocation started longer ago than this are deleted. */
  maxAgeDays: number;
  /** Only the newest this-many records of each function are kept. */
  maxPerFunction: number;
}

export interface RetentionReport {
  deletedByAge: number;
  deletedByCap: number;
}

/** A chatty or hostile function must not be able to fill the disk through one invocation. */
export const MAX_LOG_BYTES_PER_INVOCATION = 256 * 1024;
/** Deleting in batches keeps each write transaction short, so invocations appending logs wait little. */
const DELETE_BATCH = 5_000;

interface LogRow {
  id: number;
  tenant_id: string;
  function_name: string;
  version: number;
  invocation_id: string;
  status: InvocationStatus;
  duration_ms: number;
  cold: number;
  lines: string;
  at: number;
}

const toRecord = (r: LogRow): LogRecord => ({
  id: r.id,
  tenant: r.tenant_id,
  function: r.function_name,
  version: r.version,
  invocationId: r.invocation_id,
  status: r.status,
  durationMs: r.duration_ms,
  cold: r.cold === 1,
  logs: JSON.parse(r.lines) as LogLine[],
  at: r.at,
});

/** The guest's own truncation marker (guest/src/prelude/50-console.js): lines it never sent. */
const GUEST_TRUNCATED = /^\[logs truncated: ([0-9]{1,15}) more line\(s\) dropped\]$/;

/**
 * Keeps lines while they fit in MAX_LOG_BYTES_PER_INVOCATION, then says how many were dropped:
 * those cut here plus those the guest already dropped, if its marker is among the cut ones (issue
 * 13, hole 7: "542 dropped" was reported when ~98,000 lines were).
 */
export function capLines(lines: LogLine[]): LogLine[] {
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    bytes += Buffer.byteLength(lines[i]!.message) + 32;
    if (bytes > MAX_LOG_BYTES_PER_INVOCATION) {
      let dropped = lines.length - i;
      const marker = GUEST_TRUNCATED.exec(lines[lines.length - 1]!.message);
      if (marker) dropped += Number(marker[1]) - 1; // the marker itself is no line of the function's
      return [
        ...lines.slice(0, i),
        { level: 'warn', message: `[fn] ${dropped} log line(s) dropped: over ${MAX_LOG_BYTES_PER_INVOCATION} bytes in one invocation`, ms: lines[i]!.ms },
      ];
    }
  }
  return lines;
}

export class LogStore {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    readonly policy: RetentionPolicy,
  ) {}

  /**
   * Appends records in one transaction (one fsync for the batch: the worker should batch when
   * invocations are frequent). The tenant in each record is the function's owner, as the worker
   * knows it; the function may already be deleted (its logs are kept).
   */
  append(records: AppendLogInput | AppendLogInput[]): LogRecord[] {
    const list = (Array.isArray(records) ? records : [records]).map((r, i) => parse(AppendLogInput, r, `log record ${i}`));
    const insert = sql(
      this.db,
      `INSERT INTO invocation_logs (tenant_id, function_name, version, invocation_id, status, duration_ms, cold, lines, at)
       VALUES (@tenant_id, @function_name, @version, @invocation_id, @status, @duration_ms, @cold, @lines, @at)`,
    );
    const run = this.db.transaction((): LogRecord[] =>
      list.map((r) => {
        requireTenant(this.db, r.tenant);
        const row: Omit<LogRow, 'id'> = {
          tenant_id: r.tenant,
          function_name: r.function,
          version: r.version,
          invocation_id: r.invocationId,
          status: r.status,
          duration_ms: r.durationMs,
          cold: r.cold ? 1 : 0,
          lines: JSON.stringify(capLines(r.logs)),
          at: r.at ?? this.now(),
        };
        const id = Number(insert.run(row).lastInsertRowid);
        return toRecord({ id, ...row });
      }),
    );
    return run.immediate();
  }

  /**
   * The caller's logs of one function. With afterId: records after it, oldest first (polling for
   * `fn logs --follow`). Without: the newest `limit` records, oldest first (`fn logs`).
   */
  query(tenant: string, functionName: string, options: LogQueryInput = {}): LogPage {
    const id = requireTenant(this.db, tenant);
    const name = parse(FunctionName, functionName, 'function name');
    const q = parse(LogQuery, options, 'log query');
    const since = q.since ?? 0;
    let rows: LogRow[];
    if (q.afterId !== undefined) {
      rows = sql(this.db, 'SELECT * FROM invocation_logs WHERE tenant_id = ? AND function_name = ? AND id > ? AND at >= ? ORDER BY id LIMIT ?').all(
        id,
        name,
        q.afterId,
        since,
        q.limit,
      ) as LogRow[];
    } else {
      rows = (
        sql(this.db, 'SELECT * FROM invocation_logs WHERE tenant_id = ? AND function_name = ? AND at >= ? ORDER BY id DESC LIMIT ?').all(
          id,
          name,
          since,
          q.limit,
        ) as LogRow[]
      ).reverse();
    }
    const records = rows.map(toRecord);
    return { records, cursor: records.at(-1)?.id ?? q.afterId ?? 0 };
  }

  /** Deletes records older than the policy's age and beyond its per-function cap. */
  runRetention(now: number = this.now()): RetentionReport {
    const cutoff = now - this.policy.maxAgeDays * 24 * 60 * 60 * 1000;
    const byAge = sql(this.db, `DELETE FROM invocation_logs WHERE id IN (SELECT id FROM invocation_logs WHERE at < ? LIMIT ${DELETE_BATCH})`);
    let deletedByAge = 0;
    for (let n = DELETE_BATCH; n === DELETE_BATCH; deletedByAge += n) n = byAge.run(cutoff).changes;

    // For each function over the cap: delete every record older than its cap-th newest.
    const over = sql(this.db, 'SELECT tenant_id, function_name FROM invocation_logs GROUP BY tenant_id, function_name HAVING count(*) > ?').all(
      this.policy.maxPerFunction,
    ) as { tenant_id: string; function_name: string }[];
    const boundary = sql(this.db, 'SELECT id FROM invocation_logs WHERE tenant_id = ? AND function_name = ? ORDER BY id DESC LIMIT 1 OFFSET ?');
    const trim = sql(
      this.db,
      `DELETE FROM invocation_logs WHERE id IN (SELECT id FROM invocation_logs WHERE tenant_id = ? AND function_name = ? AND id < ? LIMIT ${DELETE_BATCH})`,
    );
    let deletedByCap = 0;
    for (const f of over) {
      const keepFrom = boundary.get(f.tenant_id, f.function_name, this.policy.maxPerFunction - 1) as { id: number } | undefined;
      if (!keepFrom) continue;
      for (let n = DELETE_BATCH; n === DELETE_BATCH; deletedByCap += n) n = trim.run(f.tenant_id, f.function_name, keepFrom.id).changes;
    }
    return { deletedByAge, deletedByCap };
  }
}
