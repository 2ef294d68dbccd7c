// The console's API: one tenant's functions, names never values, pools and the live tail scoped
// to the caller's tenant, over the real registry (fake deployer and invoker: harness.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, result } from '../test-support/harness.js';
import { PoolHistory } from './pool-history.js';

let h: Harness;
let pools: PoolHistory;
let closing: AbortController;
beforeEach(async () => {
  pools = new PoolHistory();
  closing = new AbortController();
  h = createHarness({ poolHistory: pools, closing: closing.signal });
  expect((await h.deploy(h.acmeKey, 'hello')).status).toBe(201);
  expect((await h.deploy(h.acmeKey, 'hello', {}, 'export default { fetch() { return new Response("v2") } }')).status).toBe(201);
  expect((await h.deploy(h.globexKey, 'billing')).status).toBe(201);
});
afterEach(() => {
  closing.abort();
  h.close();
});

const get = async (path: string, key = h.acmeKey) => {
  const res = await h.call('GET', path, { key });
  return { status: res.status, body: (await res.json()) as any };
};

describe('the function list', () => {
  it("shows the tenant's own functions with live version, aliases and the last invocation", async () => {
    h.invoker.behaviour = async () => result({ status: 200, cold: true, durationMs: 7 });
    await h.call('GET', '/fn/acme/hello', { key: h.acmeKey });
    const { status, body } = await get('/v1/console/functions');
    expect(status).toBe(200);
    expect(body.tenant).toBe('acme');
    expect(body.functions.map((f: any) => f.name)).toEqual(['hello']);
    expect(body.functions[0]).toMatchObject({
      liveVersion: 2,
      latestVersion: 2,
      aliases: [{ name: 'live', version: 2 }],
      pool: { idle: 0, busy: 0 },
      lastInvocation: { status: 'ok', cold: true, durationMs: 7, version: 2 },
    });
    const other = await get('/v1/console/functions', h.globexKey);
    expect(other.body.functions.map((f: any) => f.name)).toEqual(['billing']);
  });

  it('takes the tenant rule of every route: an admin names the tenant, a tenant key cannot name another', async () => {
    expect((await get('/v1/console/functions', h.adminKey)).status).toBe(400);
    expect((await get('/v1/console/functions?tenant=globex', h.adminKey)).body.functions.map((f: any) => f.name)).toEqual(['billing']);
    expect((await get('/v1/console/functions?tenant=globex')).status).toBe(403);
    expect((await h.call('GET', '/v1/console/functions')).status).toBe(401);
  });
});

describe('a function page', () => {
  it('lists deploy history newest first with env var names, and secret names, never their values', async () => {
    await h.call('PUT', '/v1/functions/hello/env/GREETING', { key: h.acmeKey, json: { value: 'value-of-greeting-1234' } });
    await h.call('PUT', '/v1/functions/hello/secrets/TOKEN', { key: h.acmeKey, json: { value: 'sk_secret_value_5678' } });
    const res = await h.call('GET', '/v1/console/functions/hello', { key: h.acmeKey });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain('value-of-greeting-1234');
    expect(text).not.toContain('sk_secret_value_5678');
    const body = JSON.parse(text);
    expect(body.versions.map((v: any) => [v.version, v.envNames])).toEqual([
      [3, ['GREETING']],
      [2, []],
      [1, []],
    ]);
    expect(body).toMatchObject({ liveVersion: 3, envNames: ['GREETING'], secretNames: ['TOKEN'] });
  });

  it("is another tenant's 404", async () => {
    expect((await get('/v1/console/functions/hello', h.globexKey)).status).toBe(404);
    expect((await get('/v1/console/functions/hello/pools', h.globexKey)).status).toBe(404);
    expect((await get('/v1/console/functions/hello/tail', h.globexKey)).status).toBe(404);
  });

  it("shows the pools of the function's own snapshots only, summed over its versions", async () => {
    const digests = (tenant: string, name: string) => h.registry.functions.versions(tenant, name).map((v) => v.snapshotDigest);
    const [v1, v2] = digests('acme', 'hello');
    const [billing] = digests('globex', 'billing');
    pools.record({
      workerId: 'w1',
      pools: [
        { key: v1!, idle: 1, busy: 0 },
        { key: v2!, idle: 2, busy: 1 },
        { key: billing!, idle: 7, busy: 7 },
      ],
    });
    const { body } = await get('/v1/console/functions/hello/pools');
    expect(body.samples).toEqual([{ at: expect.any(Number), idle: 3, busy: 1 }]);
    expect(body.intervalMs).toBe(1_000);
    expect((await get('/v1/console/functions')).body.functions[0].pool).toEqual({ idle: 3, busy: 1 });
    expect((await get('/v1/console/functions/billing/pools', h.globexKey)).body.samples).toEqual([{ at: expect.any(Number), idle: 7, busy: 7 }]);
  });
});

describe('the live tail', () => {
  it("streams the function's new invocation records as server-sent events, and ends when the gateway closes", async () => {
    h.invoker.behaviour = async () => result({ status: 200, cold: false, logs: [{ level: 'log', message: 'said hello', ms: 0.3 }] });
    await h.call('GET', '/fn/acme/hello', { key: h.acmeKey }); // before the tail opened: not in it
    const res = await h.call('GET', '/v1/console/functions/hello/tail', { key: h.acmeKey });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended before ${pattern}: ${text}`);
        text += value;
      }
    };
    await until(/event: ready/);
    const invoked = await h.call('GET', '/fn/acme/hello', { key: h.acmeKey });
    await h.call('GET', '/fn/globex/billing', { key: h.globexKey }); // another tenant's: never in it
    const id = invoked.headers.get('x-fn-invocation-id')!;
    await until(new RegExp(`"invocationId":"${id}"`));
    expect(text.match(/event: invocation/g)).toHaveLength(1);
    expect(text).toContain('said hello');
    expect(text).toMatch(/\nid: \d+\n/);
    closing.abort();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text.match(/event: invocation/g)).toHaveLength(1);
  });

  it('resumes after a cursor (the last event id)', async () => {
    await h.call('GET', '/fn/acme/hello', { key: h.acmeKey });
    const res = await h.call('GET', '/v1/console/functions/hello/tail?after=0', { key: h.acmeKey });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!/event: invocation/.test(text)) text += (await reader.read()).value ?? '';
    closing.abort();
    await reader.cancel();
  });
});

describe('the live tail, bounded', () => {
  it('holds a tenant to 10 open tails (429 past them) and frees a slot when one closes', async () => {
    const open = await Promise.all(Array.from({ length: 10 }, () => h.call('GET', '/v1/console/functions/hello/tail', { key: h.acmeKey })));
    expect(open.map((r) => r.status)).toEqual(Array(10).fill(200));
    const over = await h.call('GET', '/v1/console/functions/hello/tail', { key: h.acmeKey });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('5');
    // Another tenant has its own bound.
    const other = await h.call('GET', '/v1/console/functions/billing/tail', { key: h.globexKey });
    expect(other.status).toBe(200);
    await other.body!.cancel();
    // A client that goes away gives its slot back.
    await open[0]!.body!.cancel();
    let again = await h.call('GET', '/v1/console/functions/hello/tail', { key: h.acmeKey });
    for (let i = 0; again.status === 429 && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await h.call('GET', '/v1/console/functions/hello/tail', { key: h.acmeKey });
    }
    expect(again.status).toBe(200);
    for (const res of [...open.slice(1), again]) await res.body!.cancel();
  });
});

describe('the console files', () => {
  it('redirects /console to /console/ and serves the built page with a strict content security policy', async () => {
    const redirect = await h.call('GET', '/console');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/console/');
    const page = await h.call('GET', '/console/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    const script = await h.call('GET', '/console/app.js');
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(await script.text()).toContain('/v1/console/functions');
    expect((await h.call('GET', '/console/../package.json')).status).toBe(404);
    expect((await h.call('GET', '/console/nothing.js')).status).toBe(404);
  });

  it('says how to build the console when it is not built', async () => {
    const bare = createHarness({ consoleDir: '/nonexistent/console/dist' });
    try {
      const res = await bare.call('GET', '/console/');
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).error.message).toMatch(/not built.*npm run build/);
    } finally {
      bare.close();
    }
  });
});
