// The one-process queue on its real SQLite file: a job leased by a process that then stops (no
// done, no retry) is delivered again after reopening, as the next attempt; a retry waits for its
// delay; records are compare-and-set; dead letters are kept; a closed queue refuses new jobs.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { newRecord, type AsyncJob } from '@fn/gateway';
import { ASYNC_DB_FILE, SqliteAsyncQueue } from './sqlite-queue.js';

const dir = mkdtempSync(join(tmpdir(), 'fn-sqlite-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function job(id: string): AsyncJob {
  return {
    id,
    tenant: 'acme',
    function: 'echo',
    version: 1,
    snapshotKey: 'sha256-x',
    limits: { timeoutMs: 1000, memoryMiB: 64, maxConcurrency: 10 },
    request: { method: 'PUT', url: '/x?y=1', headers: [['x-a', 'b']], body: new Uint8Array([0, 255, 1, 254]) },
    createdAt: Date.now(),
  };
}

it('redelivers a job its stopped process had taken, keeps retries for later, and never loses a write', async () => {
  let queue = SqliteAsyncQueue.open(dir);
  expect(statSync(join(dir, ASYNC_DB_FILE)).mode & 0o777).toBe(0o600);
  await queue.enqueue(job('a'));
  const first = await queue.next(1_000);
  expect(first).toMatchObject({ attempt: 1, job: { id: 'a', request: { method: 'PUT', url: '/x?y=1', headers: [['x-a', 'b']] } } });
  expect([...first!.job.request.body]).toEqual([0, 255, 1, 254]);
  expect(await queue.next(100)).toBeUndefined(); // leased: nobody else gets it
  await queue.close(); // the process stops mid-attempt

  queue = SqliteAsyncQueue.open(dir);
  const second = await queue.next(1_000);
  expect(second).toMatchObject({ attempt: 2, job: { id: 'a' } });
  const retried = Date.now();
  await second!.retry(300);
  expect(await queue.next(100)).toBeUndefined(); // not before its delay
  const third = await queue.next(5_000);
  expect(third).toMatchObject({ attempt: 3, job: { id: 'a' } });
  expect(Date.now() - retried).toBeGreaterThanOrEqual(250);

  const record = await queue.update('a', (r) => ({ ...r!, status: 'dead_lettered', attempts: 3, finishedAt: Date.now() }));
  await queue.deadLetter(third!.job, record!);
  await third!.done();
  expect(queue.deadLetters()).toEqual(['a']);
  expect(await queue.next(100)).toBeUndefined();
  expect(await queue.record('a')).toMatchObject({ status: 'dead_lettered', attempts: 3 });

  await queue.update('c', () => newRecord(job('c')));
  await Promise.all(Array.from({ length: 10 }, () => queue.update('c', (r) => ({ ...r!, attempts: r!.attempts + 1 }))));
  expect((await queue.record('c'))!.attempts).toBe(10);

  await queue.close();
  await expect(queue.enqueue(job('d'))).rejects.toThrow(/closed/);
});
