// Invocation endpoints: what the invoker receives, what the caller gets back, which version runs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseServerTiming } from './server-timing.js';
import { createHarness, type Harness, result } from './test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = createHarness();
  await h.deploy(h.acmeKey, 'api', { memoryMiB: 64, timeoutMs: 2000, maxConcurrency: 4 });
});
afterEach(() => h.close());

const text = (s: string) => new TextEncoder().encode(s);

describe('request to the invoker', () => {
  it('passes method, the path after the function name with its query, headers and body', async () => {
    await h.call('POST', '/fn/acme/api/users/7?x=1&y=%20', { key: h.acmeKey, body: 'payload', headers: { 'content-type': 'text/plain', 'x-custom': 'yes' } });
    const call = h.invoker.calls[0]!;
    const live = h.registry.functions.resolve('acme', 'api');
    expect(call).toMatchObject({
      tenant: 'acme',
      function: 'api',
      version: 1,
      snapshotKey: live.snapshotDigest,
      limits: { timeoutMs: 2000, memoryMiB: 64, maxConcurrency: 4 },
      request: { method: 'POST', url: '/users/7?x=1&y=%20' },
    });
    expect(call.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new TextDecoder().decode(call.request.body)).toBe('payload');
    expect(call.request.headers).toContainEqual(['x-custom', 'yes']);
    expect(call.signal).toBeInstanceOf(AbortSignal);
  });

  it("never forwards the caller's API key to the function", async () => {
    await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    const names = h.invoker.calls[0]!.request.headers.map(([n]) => n);
    expect(names).not.toContain('authorization');
    expect(JSON.stringify(h.invoker.calls[0]!.request.headers)).not.toContain(h.acmeKey);
  });

  it('maps /fn/<tenant>/<name> (no path) to "/" and accepts every method', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect((await h.call(method, '/fn/acme/api', { key: h.acmeKey })).status, method).toBe(200);
    }
    expect(h.invoker.calls.map((c) => [c.request.method, c.request.url])).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => [m, '/']));
  });
});

describe('response', () => {
  it("is the function's status, headers and body, with x-fn-invocation-id, x-fn-cold-start and x-fn-duration-ms", async () => {
    h.invoker.behaviour = async () =>
      result({
        status: 201,
        headers: [
          ['content-type', 'application/json'],
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
        ],
        body: text('{"made":true}'),
        logs: [],
        cold: true,
        durationMs: 3.5,
      });
    const res = await h.call('POST', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('{"made":true}');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.headers.get('x-fn-invocation-id')).toBe(h.invoker.calls[0]!.invocationId);
    expect(res.headers.get('x-fn-cold-start')).toBe('true');
    expect(res.headers.get('x-fn-duration-ms')).toBe('3.5');
    // Where the time went: the gateway's own hops, and the worker's share from the result.
    const timing = parseServerTiming(res.headers.get('server-timing'));
    expect(Object.keys(timing)).toEqual(['gateway', 'registry', 'worker']);
    expect(timing.worker).toBe(3.5);
  });

  it('says warm when the invoker says so', async () => {
    h.invoker.behaviour = async () => result({ status: 200, headers: [], body: text(''), logs: [], cold: false, durationMs: 0.25 });
    expect((await h.call('GET', '/fn/acme/api', { key: h.acmeKey })).headers.get('x-fn-cold-start')).toBe('false');
  });

  it("passes a function's own 500 through untouched", async () => {
    h.invoker.behaviour = async () =>
      result({ status: 500, headers: [['content-type', 'text/html']], body: text('<h1>my own error page</h1>'), logs: [], cold: false, durationMs: 1 });
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toBe('<h1>my own error page</h1>');
  });

  it('answers a thrown handler with a 500 JSON error naming it (to the owner)', async () => {
    h.invoker.behaviour = async () =>
      result({
        status: 500,
        headers: [['content-type', 'text/plain']],
        body: text('Error: kaboom'),
        logs: [],
        error: { name: 'TypeError', message: 'kaboom', stack: 'at handler (index.js:3)' },
        cold: false,
        durationMs: 2,
      });
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ type: 'function_error', invocationId: res.headers.get('x-fn-invocation-id') });
    expect(body.error.message).toContain('TypeError: kaboom');
    expect(body.error.message).not.toContain('index.js:3');
    expect(res.headers.get('x-fn-cold-start')).toBe('false');
  });

  it("does not show a public function's error message to anonymous callers", async () => {
    await h.deploy(h.acmeKey, 'pub', { public: true });
    h.invoker.behaviour = async () =>
      result({ status: 500, headers: [], body: text(''), logs: [], error: { name: 'Error', message: 'db password wrong' }, cold: false, durationMs: 1 });
    const body = (await (await h.call('GET', '/fn/acme/pub')).json()) as any;
    expect(body.error.type).toBe('function_error');
    expect(body.error.message).not.toContain('db password');
  });

  it('drops hop-by-hop headers and forged x-fn-* headers from the function', async () => {
    h.invoker.behaviour = async () =>
      result({
        status: 200,
        headers: [
          ['connection', 'close'],
          ['transfer-encoding', 'chunked'],
          ['x-fn-cold-start', 'forged'],
          ['x-fn-invocation-id', 'forged'],
          ['x-fn-tenant', 'forged'],
          ['x-kept', '1'],
        ],
        body: text('ok'),
        logs: [],
        cold: false,
        durationMs: 1,
      });
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.headers.get('connection')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(res.headers.get('x-fn-cold-start')).toBe('false');
    expect(res.headers.get('x-fn-invocation-id')).not.toBe('forged');
    expect(res.headers.get('x-fn-tenant')).toBeNull();
    expect(res.headers.get('x-kept')).toBe('1');
  });

  it('answers 204 with no body', async () => {
    h.invoker.behaviour = async () => result({ status: 204, headers: [], body: text('ignored'), logs: [], cold: false, durationMs: 1 });
    const res = await h.call('DELETE', '/fn/acme/api/x', { key: h.acmeKey });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('answers 500 (not a crash of the gateway) when the invoker returns nonsense', async () => {
    h.invoker.behaviour = async () => result({ status: 42 }) as never;
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    expect(((await res.json()) as any).error.type).toBe('internal');
  });
});

describe('versions and aliases', () => {
  beforeEach(async () => {
    await h.deploy(h.acmeKey, 'api');
    await h.call('PUT', '/v1/functions/api/aliases/stable', { key: h.acmeKey, json: { version: 1 } });
  });

  const ran = async (path: string) => (await h.call('GET', path, { key: h.acmeKey })).text();

  it('runs live by default, a version with @N, an alias with @name', async () => {
    expect(await ran('/fn/acme/api')).toBe('ran api v2');
    expect(await ran('/fn/acme/api@1/x')).toBe('ran api v1');
    expect(await ran('/fn/acme/api@stable')).toBe('ran api v1');
    expect(await ran('/fn/acme/api%40stable')).toBe('ran api v1');
    expect(h.invoker.calls.map((c) => c.snapshotKey)).toEqual([2, 1, 1, 1].map((v) => h.registry.functions.resolve('acme', 'api', v).snapshotDigest));
  });

  it('an unknown version or alias is 404, an empty selector 400', async () => {
    expect((await h.call('GET', '/fn/acme/api@9', { key: h.acmeKey })).status).toBe(404);
    expect((await h.call('GET', '/fn/acme/api@nope', { key: h.acmeKey })).status).toBe(404);
    expect((await h.call('GET', '/fn/acme/api@', { key: h.acmeKey })).status).toBe(400);
  });

  it('invocations follow live through a rollback and back', async () => {
    expect(await ran('/fn/acme/api')).toBe('ran api v2');
    await h.call('POST', '/v1/functions/api/rollback', { key: h.acmeKey });
    expect(await ran('/fn/acme/api')).toBe('ran api v1');
    await h.call('POST', '/v1/functions/api/rollback', { key: h.acmeKey, json: { version: 2 } });
    expect(await ran('/fn/acme/api')).toBe('ran api v2');
  });
});
