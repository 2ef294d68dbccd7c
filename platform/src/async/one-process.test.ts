// Asynchronous invocations in the one-process platform (`fn up`, no NATS), through the real chain:
// HTTP 202 → SQLite queue (<data>/async.db) → runner → scheduler → worker → VM, and the record
// read back over HTTP. Succeeded, a function's error (final, not retried), a crashing VM (retried,
// then dead-lettered), tenant isolation, and a queued invocation that outlives a restart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from '../../../cli/src/api-client.js';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from '../start-platform.js';

const ECHO = `export default { async fetch(request) {
  return new Response(request.method + ' ' + new URL(request.url).pathname + ' ' + (await request.text()) + ' ' + (request.headers.get('x-fn-invocation-type') ?? 'no-type-header'), { status: 201, headers: { 'x-echo': 'yes' } });
} };`;
const BOOM = "export default { fetch() { throw new RangeError('kaboom'); } };";
// Nesting deep enough to run the runtime's C stack into its guard: the VM faults (kind crashed).
const CRASH = 'export default { fetch() { let v = []; for (let i = 0; i < 20000; i++) v = [v]; return new Response(JSON.stringify(v)); } };';

interface Status {
  id: string;
  status: string;
  attempts: number;
  result?: { status: number; headers: [string, string][]; body?: string };
  error?: { kind: string; message: string };
  finishedAt?: number;
}

async function poll(base: string, key: string, path: string, final = ['succeeded', 'failed', 'dead_lettered']): Promise<Status> {
  const start = Date.now();
  for (;;) {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Status;
    if (final.includes(body.status)) return body;
    if (Date.now() - start > scaledTimeout(60_000)) throw new Error(`${path} still ${body.status} after 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function invokeAsync(
  base: string,
  key: string,
  name: string,
  init: RequestInit = {},
): Promise<{ id: string; statusUrl: string; location: string | null; status: number }> {
  const res = await fetch(`${base}/fn/acme/${name}/some/path`, {
    method: 'POST',
    ...init,
    headers: { authorization: `Bearer ${key}`, 'x-fn-invocation-type': 'async', ...(init.headers as Record<string, string>) },
  });
  const body = (await res.json()) as { id: string; status: string; statusUrl: string };
  return { ...body, location: res.headers.get('location'), status: res.status };
}

describeEachBackend(
  'asynchronous invocations in one process',
  (backend) => {
    let p: RunningPlatform | undefined;
    let key: string;
    const dataDir = mkdtempSync(join(tmpdir(), 'fn-async-'));
    const start = (concurrency?: number) =>
      startPlatform({
        dataDir,
        port: 0,
        backend: backend as 'kvm' | 'ptrace',
        logger: () => {},
        async: { backoffMs: 100, ...(concurrency !== undefined ? { concurrency } : {}) },
      });
    beforeAll(async () => {
      p = await start();
      key = p.newAdminKey!;
      const api = new ApiClient({ baseUrl: p.url, apiKey: key, tenant: 'acme' });
      await api.createTenant('acme');
      for (const [name, bundle] of Object.entries({ echo: ECHO, boom: BOOM, crash: CRASH }))
        await api.deploy({ name, bundle, config: { memoryMiB: 32, timeoutMs: 5000 } });
    }, scaledTimeout(240_000));
    afterAll(async () => {
      await p?.close();
    });

    it('answers 202 with an id and a status URL; the result is read back once it ran', { timeout: scaledTimeout(60_000) }, async () => {
      const accepted = await invokeAsync(p!.url, key, 'echo', { body: 'hello async' });
      expect(accepted).toMatchObject({ status: 202, statusUrl: `/v1/invocations/${accepted.id}`, location: `/v1/invocations/${accepted.id}` });
      const done = await poll(p!.url, key, accepted.statusUrl);
      expect(done).toMatchObject({
        id: accepted.id,
        status: 'succeeded',
        attempts: 1,
        result: { status: 201, body: 'POST /some/path hello async no-type-header' },
      });
      expect(done.result!.headers).toContainEqual(['x-echo', 'yes']);
      expect(done.finishedAt).toBeGreaterThan(0);

      // Another tenant's key sees nothing of it; no key at all is a 401.
      const api = new ApiClient({ baseUrl: p!.url, apiKey: key });
      await api.createTenant('other');
      const other = await api.createKey('other');
      expect((await fetch(p!.url + accepted.statusUrl, { headers: { authorization: `Bearer ${other.secret}` } })).status).toBe(404);
      expect((await fetch(p!.url + accepted.statusUrl)).status).toBe(401);
      expect((await fetch(`${p!.url}/v1/invocations/no-such-id`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
    });

    it("a function's error is a final failure with its kind, not retried", { timeout: scaledTimeout(60_000) }, async () => {
      const accepted = await invokeAsync(p!.url, key, 'boom');
      const done = await poll(p!.url, key, accepted.statusUrl);
      expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { kind: 'function_error' } });
      expect(done.error!.message).toMatch(/RangeError: kaboom/);
    });

    it('a crashing VM is retried twice with backoff, then dead-lettered', { timeout: scaledTimeout(60_000) }, async () => {
      const accepted = await invokeAsync(p!.url, key, 'crash');
      const done = await poll(p!.url, key, accepted.statusUrl);
      expect(done).toMatchObject({ status: 'dead_lettered', attempts: 3, error: { kind: 'crashed' } });
      const logs = await new ApiClient({ baseUrl: p!.url, apiKey: key, tenant: 'acme' }).logs('crash');
      expect(logs.records.filter((r) => r.invocationId === accepted.id)).toHaveLength(3);
    });

    it("a bad x-fn-invocation-type is the caller's 400", async () => {
      const res = await fetch(`${p!.url}/fn/acme/echo`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'x-fn-invocation-type': 'later' } });
      expect(res.status).toBe(400);
    });

    it('an invocation still queued when fn up stops runs after the restart', { timeout: scaledTimeout(120_000) }, async () => {
      await p!.close();
      // A platform that takes invocations but runs none (no runner loops): they stay queued on disk.
      p = await start(0);
      const accepted = await invokeAsync(p.url, key, 'echo', { body: 'survives' });
      expect(accepted.status).toBe(202);
      await new Promise((r) => setTimeout(r, 300));
      expect((await poll(p.url, key, accepted.statusUrl, ['queued'])).attempts).toBe(0);
      await p.close();
      p = await start();
      const done = await poll(p.url, key, accepted.statusUrl);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1, result: { body: 'POST /some/path survives no-type-header' } });
    });
  },
  ['ptrace'],
);
