// The log sink whose writes run on their own thread (a real worker thread, its own SQLite
// connection to the same data directory): what flush() promises, what close() stores, what a
// refused record costs, and what happens when the thread cannot do its job.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from '@fn/registry';
import { expect, it, vi } from 'vitest';
import { threadedLogSink } from './threaded-log-sink.js';
import { logRecord, useLogRegistry } from './test-support/log-registry.js';

const t = useLogRegistry('fn-thread-sink-');
const record = (invocationId: string) => logRecord(invocationId, [{ level: 'log', message: `from ${invocationId}`, ms: 0 }]);
const stored = () => t.stored();

it('stores every record added before flush() by the time it resolves, in order', async () => {
  const sink = threadedLogSink(t.registry, () => {});
  const ids = Array.from({ length: 250 }, (_, i) => `inv-${i}`);
  for (const id of ids) sink.add(record(id));
  expect(stored()).toEqual([]); // nothing was written on this thread
  await sink.flush();
  expect(stored()).toEqual(ids);
  await sink.close();
});

it('stores a batch on its own after a short delay, and the last records on close', async () => {
  const sink = threadedLogSink(t.registry, () => {});
  sink.add(record('a'));
  await vi.waitFor(() => expect(stored()).toEqual(['a']), { timeout: 10_000 });
  sink.add(record('b'));
  await sink.close();
  expect(stored()).toEqual(['a', 'b']);
});

it('drops only the record the registry refuses, and reports it through the logger', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = threadedLogSink(t.registry, (l) => void lines.push(l));
  sink.add(record('a'));
  sink.add({ ...record('b'), tenant: 'no-such-tenant' });
  sink.add(record('c'));
  await sink.flush();
  expect(stored()).toEqual(['a', 'c']);
  expect(lines).toEqual([expect.objectContaining({ level: 'warn', invocationId: 'b' })]);
  await sink.close();
});

it('goes on storing on the main thread when the writer thread cannot open the database', async () => {
  const lines: Record<string, unknown>[] = [];
  // The thread opens the database of the registry's data directory on its own: point that at a
  // path under a regular file, which no one (root included) can create.
  const other = mkdtempSync(join(tmpdir(), 'fn-thread-sink-bad-'));
  try {
    writeFileSync(join(other, 'a-file'), '');
    const broken = Object.create(t.registry, { dataDir: { value: join(other, 'a-file', 'data') } }) as Registry;
    const sink = threadedLogSink(broken, (l) => void lines.push(l));
    sink.add(record('a'));
    await vi.waitFor(() => expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: expect.stringMatching(/log writer thread failed/) })]), {
      timeout: 10_000,
    });
    sink.add(record('b'));
    await sink.flush();
    expect(stored()).toEqual(['a', 'b']);
    await sink.close();
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});
