// The batched log sink: one append per batch, flush on demand, bad records dropped alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, Registry, type AppendLogInput } from '@fn/registry';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { registryLogSink } from './log-sink.js';

let dir: string;
let registry: Registry;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fn-sink-'));
  registry = Registry.open(dir);
  registry.tenants.create(ADMIN, 'acme');
});
afterEach(() => {
  registry.close();
  rmSync(dir, { recursive: true, force: true });
});

const record = (invocationId: string): AppendLogInput => ({
  tenant: 'acme',
  function: 'api',
  version: 1,
  invocationId,
  status: 'ok',
  durationMs: 1,
  cold: false,
  logs: [],
});
const stored = () => registry.logs.query('acme', 'api', { afterId: 0, limit: 1000 }).records.map((r) => r.invocationId);

it('writes a full batch at once and a partial one on flush', async () => {
  const append = vi.spyOn(registry.logs, 'append');
  const sink = registryLogSink(registry, () => {}, { maxBatch: 3, maxDelayMs: 60_000 });
  for (const id of ['a', 'b', 'c', 'd']) sink.add(record(id));
  expect(append).toHaveBeenCalledTimes(1);
  expect(stored()).toEqual(['a', 'b', 'c']);
  await sink.flush();
  expect(append).toHaveBeenCalledTimes(2);
  expect(stored()).toEqual(['a', 'b', 'c', 'd']);
});

it('writes a partial batch after the delay on its own', async () => {
  const sink = registryLogSink(registry, () => {}, { maxBatch: 100, maxDelayMs: 10 });
  sink.add(record('a'));
  expect(stored()).toEqual([]);
  await vi.waitFor(() => expect(stored()).toEqual(['a']));
  await sink.close();
});

it('drops only the record the registry refuses, and says so', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = registryLogSink(registry, (l) => void lines.push(l), { maxBatch: 100 });
  sink.add(record('a'));
  sink.add({ ...record('b'), tenant: 'no-such-tenant' });
  sink.add(record('c'));
  await sink.flush();
  expect(stored()).toEqual(['a', 'c']);
  expect(lines).toEqual([expect.objectContaining({ level: 'warn', invocationId: 'b' })]);
});
