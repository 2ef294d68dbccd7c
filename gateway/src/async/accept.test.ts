// The 202 of an asynchronous invocation at the gateway (app.request, real registry, the real
// SQLite queue): what is queued, what the caller gets, and a queue that cannot take it (503).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SqliteAsyncQueue } from '../../../platform/src/async/sqlite-queue.js';
import { createHarness, type Harness } from '../test-support/harness.js';

const open: { h: Harness; queue: SqliteAsyncQueue; dir: string }[] = [];
afterEach(async () => {
  for (const { h, queue, dir } of open.splice(0)) {
    await queue.close();
    h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'fn-accept-'));
  const queue = SqliteAsyncQueue.open(dir);
  const h = createHarness({ asyncQueue: queue });
  open.push({ h, queue, dir });
  return { h, queue };
}

it('queues the request as the function will see it and answers 202 with the id, status URL and location', async () => {
  const { h, queue } = setup();
  await h.deploy(h.acmeKey, 'echo');
  const res = await h.call('POST', '/fn/acme/echo/a/b?c=1', {
    key: h.acmeKey,
    headers: { 'x-fn-invocation-type': 'Event', 'x-thing': 'yes' },
    body: 'payload',
  });
  expect(res.status).toBe(202);
  const body = (await res.json()) as { id: string; status: string; statusUrl: string };
  expect(body).toEqual({ id: res.headers.get('x-fn-invocation-id'), status: 'queued', statusUrl: `/v1/invocations/${body.id}` });
  expect(res.headers.get('location')).toBe(body.statusUrl);
  expect(h.invoker.calls).toHaveLength(0); // nothing ran yet

  const delivery = await queue.next(1_000);
  expect(delivery!.job).toMatchObject({ id: body.id, tenant: 'acme', function: 'echo', version: 1, request: { method: 'POST', url: '/a/b?c=1' } });
  expect(new TextDecoder().decode(delivery!.job.request.body)).toBe('payload');
  const names = delivery!.job.request.headers.map(([n]) => n);
  expect(names).toContain('x-thing');
  expect(names).not.toContain('x-fn-invocation-type');
  expect(names).not.toContain('authorization');

  const status = await h.call('GET', body.statusUrl, { key: h.acmeKey });
  expect(await status.json()).toMatchObject({ id: body.id, status: 'queued', attempts: 0, function: 'echo' });
  expect((await h.call('GET', body.statusUrl, { key: h.globexKey })).status).toBe(404);
  expect((await h.call('GET', body.statusUrl, { key: h.adminKey })).status).toBe(200);
});

it('checks the request as a synchronous one: unknown function 404, too large 413, a bad type 400', async () => {
  const { h } = setup();
  await h.deploy(h.acmeKey, 'echo');
  const async = { 'x-fn-invocation-type': 'async' };
  expect((await h.call('POST', '/fn/acme/nope', { key: h.acmeKey, headers: async })).status).toBe(404);
  expect((await h.call('POST', '/fn/acme/echo', { key: h.acmeKey, headers: async, body: new Uint8Array(6 * 1024 * 1024 + 1) })).status).toBe(413);
  expect((await h.call('POST', '/fn/acme/echo', { key: h.acmeKey, headers: { 'x-fn-invocation-type': 'soon' } })).status).toBe(400);
});

it('a queue that cannot store it answers 503 with Retry-After: nothing was accepted', async () => {
  const { h, queue } = setup();
  await h.deploy(h.acmeKey, 'echo');
  await queue.close();
  const res = await h.call('POST', '/fn/acme/echo', { key: h.acmeKey, headers: { 'x-fn-invocation-type': 'async' } });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
});
