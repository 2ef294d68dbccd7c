import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from './errors.js';
import { MAX_LOG_BYTES_PER_INVOCATION, capLines } from './logs.js';
import { Registry } from './registry.js';
import type { AppendLogInput } from './schemas.js';
import { deployInput, openWithTenants, tempDir } from './test-support/fixtures.js';

const DAY = 24 * 60 * 60 * 1000;
let dir: string;
let cleanup: () => Promise<void>;
let registry: Registry;
let clock = Date.UTC(2026, 0, 1);
const now = () => clock;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  clock = Date.UTC(2026, 0, 1);
  ({ registry } = openWithTenants(dir, { now, logRetentionDays: 7, maxLogsPerFunction: 5 }));
  registry.functions.createVersion(deployInput('acme', 'api'));
});
afterEach(async () => {
  registry.close();
  await cleanup();
});

const record = (i: number, extra: Partial<AppendLogInput> = {}): AppendLogInput => ({
  tenant: 'acme',
  function: 'api',
  version: 1,
  invocationId: `inv-${i}`,
  status: 'ok',
  durationMs: 1.5,
  cold: i === 0,
  logs: [{ level: 'log', message: `hello ${i}`, ms: 0.25 }],
  ...extra,
});

describe('invocation logs', () => {
  it('appends and queries the newest records, oldest first', () => {
    const [first] = registry.logs.append(record(0, { status: 'error', logs: [{ level: 'error', message: 'boom', ms: 2 }] }));
    expect(first).toMatchObject({
      tenant: 'acme',
      function: 'api',
      version: 1,
      invocationId: 'inv-0',
      status: 'error',
      durationMs: 1.5,
      cold: true,
      at: clock,
    });
    registry.logs.append([record(1), record(2), record(3)]);
    const page = registry.logs.query('acme', 'api', { limit: 2 });
    expect(page.records.map((r) => r.invocationId)).toEqual(['inv-2', 'inv-3']);
    expect(page.records[1]!.logs).toEqual([{ level: 'log', message: 'hello 3', ms: 0.25 }]);
    expect(registry.logs.query('acme', 'api').records[0]).toEqual(first);
  });

  it('follows with a monotonic cursor', () => {
    let { cursor, records } = registry.logs.query('acme', 'api', { afterId: 0 });
    expect(records).toEqual([]);
    expect(cursor).toBe(0);
    registry.logs.append([record(1), record(2)]);
    ({ cursor, records } = registry.logs.query('acme', 'api', { afterId: cursor }));
    expect(records.map((r) => r.invocationId)).toEqual(['inv-1', 'inv-2']);
    ({ cursor, records } = registry.logs.query('acme', 'api', { afterId: cursor }));
    expect(records).toEqual([]);
    registry.logs.append(record(3));
    ({ records } = registry.logs.query('acme', 'api', { afterId: cursor, limit: 1 }));
    expect(records.map((r) => r.invocationId)).toEqual(['inv-3']);
    // Ids are never reused, even after retention deleted the newest records.
    const last = records[0]!.id;
    clock += 30 * DAY;
    expect(registry.runRetention().deletedByAge).toBe(3);
    expect(registry.logs.append(record(4))[0]!.id).toBeGreaterThan(last);
  });

  it('filters by start time', () => {
    registry.logs.append(record(1, { at: clock - 2 * 60_000 }));
    registry.logs.append(record(2, { at: clock - 30_000 }));
    expect(registry.logs.query('acme', 'api', { since: clock - 60_000 }).records.map((r) => r.invocationId)).toEqual(['inv-2']);
  });

  it('deletes records past the retention age and beyond the per-function cap', () => {
    registry.logs.append([0, 1, 2].map((i) => record(i, { at: clock - 8 * DAY })));
    registry.logs.append([3, 4, 5, 6, 7, 8, 9].map((i) => record(i)));
    registry.logs.append(record(10, { function: 'other' }));
    expect(registry.runRetention()).toEqual({ deletedByAge: 3, deletedByCap: 2 });
    expect(registry.logs.query('acme', 'api').records.map((r) => r.invocationId)).toEqual(['inv-5', 'inv-6', 'inv-7', 'inv-8', 'inv-9']);
    expect(registry.logs.query('acme', 'other').records).toHaveLength(1);
    expect(registry.runRetention()).toEqual({ deletedByAge: 0, deletedByCap: 0 });
  });

  it('runs retention when the registry opens', () => {
    registry.logs.append(record(1));
    registry.close();
    clock += 8 * DAY;
    registry = Registry.open(dir, { now, logRetentionDays: 7 });
    expect(registry.logs.query('acme', 'api').records).toEqual([]);
  });

  it('keeps the logs of a deleted function until retention', () => {
    registry.logs.append(record(1));
    registry.functions.delete('acme', 'api');
    expect(registry.logs.query('acme', 'api').records.map((r) => r.invocationId)).toEqual(['inv-1']);
  });

  it('caps one invocation’s log volume', () => {
    const lines = Array.from({ length: 100 }, (_, i) => ({ level: 'log' as const, message: 'x'.repeat(10_000), ms: i }));
    const [stored] = registry.logs.append(record(1, { logs: lines }));
    expect(stored!.logs.length).toBeLessThan(30);
    expect(stored!.logs.at(-1)!.message).toMatch(/log line\(s\) dropped/);
    expect(JSON.stringify(stored!.logs).length).toBeLessThan(MAX_LOG_BYTES_PER_INVOCATION + 1000);
    expect(capLines(lines.slice(0, 2))).toEqual(lines.slice(0, 2));
  });

  it('validates records and queries', () => {
    expect(() => registry.logs.append(record(1, { status: 'fine' as never }))).toThrow(ValidationError);
    expect(() => registry.logs.append(record(1, { tenant: 'nobody' }))).toThrow(NotFoundError);
    expect(() => registry.logs.query('acme', 'api', { limit: 0 })).toThrow(ValidationError);
    expect(() => registry.logs.query('acme', 'api', { afterId: -1 })).toThrow(ValidationError);
    // A failing record rolls back the whole batch.
    expect(() => registry.logs.append([record(1), record(2, { durationMs: -1 })])).toThrow(ValidationError);
    expect(() => registry.logs.append([record(1), record(2, { tenant: 'nobody' })])).toThrow(NotFoundError);
    expect(registry.logs.query('acme', 'api').records).toEqual([]);
  });
});

describe('the dropped-lines count (issue 13, hole 7)', () => {
  it('adds the lines the guest dropped before sending, when its marker is among the lines cut here', () => {
    // What a flooded guest sends: as many 100-byte lines as its 256 KiB allow, then its marker.
    const line = { level: 'log' as const, message: 'x'.repeat(100), ms: 1 };
    const sent = [...Array.from({ length: 2621 }, () => line), { level: 'warn' as const, message: '[logs truncated: 97379 more line(s) dropped]', ms: 2 }];
    const capped = capLines(sent);
    const kept = capped.length - 1;
    const cutHere = 2621 - kept;
    expect(capped[capped.length - 1]!.message).toBe(
      `[fn] ${cutHere + 97379} log line(s) dropped: over ${MAX_LOG_BYTES_PER_INVOCATION} bytes in one invocation`,
    );
    expect(kept + cutHere + 97379).toBe(100_000);
  });
});
