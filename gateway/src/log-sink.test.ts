// The batched log sink: one append per batch, flush on demand, bad records dropped alone.
import { expect, it, vi } from 'vitest';
import { registryLogSink } from './log-sink.js';
import { logRecord as record, useLogRegistry } from './test-support/log-registry.js';

const t = useLogRegistry('fn-sink-');
const stored = () => t.stored();

it('writes a full batch at once and a partial one on flush', async () => {
  const append = vi.spyOn(t.registry.logs, 'append');
  const sink = registryLogSink(t.registry, () => {}, { maxBatch: 3, maxDelayMs: 60_000 });
  for (const id of ['a', 'b', 'c', 'd']) sink.add(record(id));
  expect(append).toHaveBeenCalledTimes(1);
  expect(stored()).toEqual(['a', 'b', 'c']);
  await sink.flush();
  expect(append).toHaveBeenCalledTimes(2);
  expect(stored()).toEqual(['a', 'b', 'c', 'd']);
});

it('writes a partial batch after the delay on its own', async () => {
  const sink = registryLogSink(t.registry, () => {}, { maxBatch: 100, maxDelayMs: 10 });
  sink.add(record('a'));
  expect(stored()).toEqual([]);
  await vi.waitFor(() => expect(stored()).toEqual(['a']));
  await sink.close();
});

it('drops only the record the registry refuses, and says so', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = registryLogSink(t.registry, (l) => void lines.push(l), { maxBatch: 100 });
  sink.add(record('a'));
  sink.add({ ...record('b'), tenant: 'no-such-tenant' });
  sink.add(record('c'));
  await sink.flush();
  expect(stored()).toEqual(['a', 'c']);
  expect(lines).toEqual([expect.objectContaining({ level: 'warn', invocationId: 'b' })]);
});
