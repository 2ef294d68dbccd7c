// The control API's happy paths, through app.request() against a real registry.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './test-support/harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(() => h.close());

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

describe('deploy', () => {
  it('hands bundle and config to the deployer, records version 1 and moves live', async () => {
    const bundle = 'export default { fetch() { return new Response("hi") } }';
    const res = await json(
      await h.deploy(h.acmeKey, 'api', { memoryMiB: 64, timeoutMs: 5000, maxConcurrency: 3, public: true, env: { GREETING: 'hi' } }, bundle),
    );
    expect(res.status).toBe(201);
    expect(h.deployer.calls).toEqual([
      // env is recorded on the version and sent with invocations, never baked into the snapshot.
      { tenant: 'acme', name: 'api', bundle, config: { entry: 'index.js', memoryMiB: 64, timeoutMs: 5000, maxConcurrency: 3, public: true, env: {} } },
    ]);
    expect(res.body).toMatchObject({
      tenant: 'acme',
      function: 'api',
      version: 1,
      config: { memoryMiB: 64, timeoutMs: 5000, maxConcurrency: 3, public: true },
      env: { GREETING: 'hi' },
    });
    expect(res.body.snapshotDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(h.registry.functions.resolve('acme', 'api').version).toBe(1);
  });

  it('applies the default limits and numbers the next deploy 2', async () => {
    await h.deploy(h.acmeKey, 'api');
    const second = await json(await h.deploy(h.acmeKey, 'api'));
    expect(second.body).toMatchObject({ version: 2, config: { entry: 'index.js', memoryMiB: 128, timeoutMs: 3000, maxConcurrency: 10, public: false } });
  });

  it('keeps the live env when a redeploy sends none, and never hands env or secrets to the snapshot', async () => {
    await h.deploy(h.acmeKey, 'api', { env: { A: '1' } });
    await h.call('PUT', '/v1/functions/api/secrets/TOKEN', { key: h.acmeKey, json: { value: 's3cr3t' } });
    const res = await json(await h.deploy(h.acmeKey, 'api'));
    expect(res.body.env).toEqual({ A: '1' });
    expect(h.deployer.calls[1]!.config.env).toEqual({});
    expect(JSON.stringify(res.body)).not.toContain('s3cr3t');
  });

  it('refuses limits out of range (memory 16–1024 MiB, timeout ≤ 15 min) before building', async () => {
    for (const config of [{ memoryMiB: 8 }, { memoryMiB: 2048 }, { timeoutMs: 900_001 }, { maxConcurrency: 0 }]) {
      expect((await h.deploy(h.acmeKey, 'api', config)).status).toBe(400);
    }
    expect((await h.deploy(h.acmeKey, 'api', { memoryMiB: 1024, timeoutMs: 900_000 })).status).toBe(201);
    expect(h.deployer.calls).toHaveLength(1);
  });

  it('records nothing when the build fails, and says why', async () => {
    h.deployer.behaviour = async () => {
      throw Object.assign(new Error('the function failed to load: SyntaxError: unexpected token'), { name: 'GuestLoadError' });
    };
    const res = await json(await h.deploy(h.acmeKey, 'api'));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('SyntaxError');
    expect(h.registry.functions.list('acme')).toEqual([]);
  });
});

describe('functions, versions, aliases', () => {
  beforeEach(async () => {
    await h.deploy(h.acmeKey, 'api');
    await h.deploy(h.acmeKey, 'api');
  });

  it('lists and describes', async () => {
    const list = await json(await h.call('GET', '/v1/functions', { key: h.acmeKey }));
    expect(list.body.functions).toEqual([expect.objectContaining({ name: 'api', latestVersion: 2, liveVersion: 2, public: false })]);
    const described = await json(await h.call('GET', '/v1/functions/api', { key: h.acmeKey }));
    expect(described.body.versions.map((v: any) => v.version)).toEqual([1, 2]);
    expect(described.body.aliases).toEqual([expect.objectContaining({ name: 'live', version: 2 })]);
  });

  it('lists versions and aliases, sets and deletes an alias', async () => {
    expect((await json(await h.call('GET', '/v1/functions/api/versions', { key: h.acmeKey }))).body.versions).toHaveLength(2);
    const set = await json(await h.call('PUT', '/v1/functions/api/aliases/staging', { key: h.acmeKey, json: { version: 1 } }));
    expect(set).toMatchObject({ status: 200, body: { name: 'staging', version: 1 } });
    const aliases = await json(await h.call('GET', '/v1/functions/api/aliases', { key: h.acmeKey }));
    expect(aliases.body.aliases.map((a: any) => [a.name, a.version])).toEqual([
      ['live', 2],
      ['staging', 1],
    ]);
    expect((await h.call('DELETE', '/v1/functions/api/aliases/staging', { key: h.acmeKey })).status).toBe(204);
    expect((await h.call('DELETE', '/v1/functions/api/aliases/live', { key: h.acmeKey })).status).toBe(409);
  });

  it('rolls live back to the version below, or to a named one', async () => {
    expect(await json(await h.call('POST', '/v1/functions/api/rollback', { key: h.acmeKey }))).toEqual({ status: 200, body: { from: 2, to: 1 } });
    expect(await json(await h.call('POST', '/v1/functions/api/rollback', { key: h.acmeKey, json: { version: 2 } }))).toEqual({
      status: 200,
      body: { from: 1, to: 2 },
    });
    expect((await h.call('POST', '/v1/functions/api/rollback', { key: h.acmeKey, json: { version: 9 } })).status).toBe(404);
  });

  it('deletes a function', async () => {
    expect(await json(await h.call('DELETE', '/v1/functions/api', { key: h.acmeKey }))).toEqual({ status: 200, body: { name: 'api', versions: 2 } });
    expect((await h.call('GET', '/v1/functions/api', { key: h.acmeKey })).status).toBe(404);
  });
});

describe('env and secrets', () => {
  beforeEach(async () => {
    await h.deploy(h.acmeKey, 'api', { env: { A: '1' } });
  });

  it('sets and unsets env vars, each change a new version', async () => {
    const set = await json(await h.call('PUT', '/v1/functions/api/env/B', { key: h.acmeKey, json: { value: '2' } }));
    expect(set.body).toMatchObject({ published: true, version: { version: 2, env: { A: '1', B: '2' } } });
    expect((await json(await h.call('GET', '/v1/functions/api/env', { key: h.acmeKey }))).body).toEqual({ version: 2, env: { A: '1', B: '2' } });
    const unset = await json(await h.call('DELETE', '/v1/functions/api/env/A', { key: h.acmeKey }));
    expect(unset.body).toMatchObject({ published: true, version: { version: 3, env: { B: '2' } } });
  });

  it('sets, lists (names only) and unsets secrets', async () => {
    expect(await json(await h.call('PUT', '/v1/functions/api/secrets/TOKEN', { key: h.acmeKey, json: { value: 'xyz' } }))).toEqual({
      status: 200,
      body: { name: 'TOKEN' },
    });
    expect((await json(await h.call('GET', '/v1/functions/api/secrets', { key: h.acmeKey }))).body).toEqual({ names: ['TOKEN'] });
    expect(h.registry.env.secretsForInvocation('acme', 'api')).toEqual({ TOKEN: 'xyz' });
    expect((await json(await h.call('DELETE', '/v1/functions/api/secrets/TOKEN', { key: h.acmeKey }))).body).toEqual({ name: 'TOKEN', existed: true });
    expect(h.registry.env.secretNames('acme', 'api')).toEqual([]);
  });

  it('refuses a secret named like an env var (409)', async () => {
    expect((await h.call('PUT', '/v1/functions/api/secrets/A', { key: h.acmeKey, json: { value: 'x' } })).status).toBe(409);
  });
});

describe('tenants, keys, whoami', () => {
  it('whoami tells tenant and admin keys apart', async () => {
    expect((await json(await h.call('GET', '/v1/whoami', { key: h.acmeKey }))).body).toMatchObject({ tenant: 'acme', admin: false });
    expect((await json(await h.call('GET', '/v1/whoami', { key: h.adminKey }))).body).toMatchObject({ tenant: null, admin: true });
  });

  it('the admin creates a tenant and a key that works', async () => {
    expect(await json(await h.call('POST', '/v1/tenants', { key: h.adminKey, json: { name: 'initech' } }))).toMatchObject({
      status: 201,
      body: { id: 'initech' },
    });
    const key = await json(await h.call('POST', '/v1/keys', { key: h.adminKey, json: { tenant: 'initech', label: 'ci' } }));
    expect(key).toMatchObject({ status: 201, body: { tenantId: 'initech', label: 'ci' } });
    expect((await json(await h.call('GET', '/v1/whoami', { key: key.body.secret }))).body.tenant).toBe('initech');
    expect((await json(await h.call('GET', '/v1/tenants', { key: h.adminKey }))).body.tenants.map((t: any) => t.id)).toEqual(['acme', 'globex', 'initech']);
  });

  it('tenant keys can neither create tenants nor keys (403)', async () => {
    expect((await h.call('POST', '/v1/tenants', { key: h.acmeKey, json: { name: 'evil' } })).status).toBe(403);
    expect((await h.call('POST', '/v1/keys', { key: h.acmeKey, json: { tenant: 'acme', label: 'more' } })).status).toBe(403);
  });

  it('lists keys without secrets and revokes one', async () => {
    const keys = await json(await h.call('GET', '/v1/keys', { key: h.acmeKey }));
    expect(keys.body.keys).toHaveLength(1);
    expect(JSON.stringify(keys.body)).not.toContain(h.acmeKey);
    const id = keys.body.keys[0].id;
    expect((await json(await h.call('DELETE', `/v1/keys/${id}`, { key: h.acmeKey }))).body.revokedAt).toEqual(expect.any(Number));
    expect((await h.call('GET', '/v1/whoami', { key: h.acmeKey })).status).toBe(401);
  });

  it('the admin acts for a tenant with ?tenant=, and must name one', async () => {
    await h.deploy(h.acmeKey, 'api');
    expect((await json(await h.call('GET', '/v1/functions?tenant=acme', { key: h.adminKey }))).body.functions).toHaveLength(1);
    const missing = await json(await h.call('GET', '/v1/functions', { key: h.adminKey }));
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('?tenant=');
    expect((await h.deploy(h.adminKey, 'x')).status).toBe(400);
    expect((await h.call('POST', '/v1/functions?tenant=globex', { key: h.adminKey, json: { name: 'x', bundle: 'export default {}' } })).status).toBe(201);
    expect(h.registry.functions.list('globex').map((f) => f.name)).toEqual(['x']);
  });
});

describe('request log', () => {
  it('writes one JSON line per request with method, path, status, duration, tenant and request id', async () => {
    const res = await h.call('GET', '/v1/functions?tenant=acme', { key: h.acmeKey });
    const lines = h.logLines.filter((l) => l.msg === 'request');
    expect(lines).toEqual([
      {
        level: 'info',
        msg: 'request',
        requestId: res.headers.get('x-fn-request-id'),
        method: 'GET',
        path: '/v1/functions',
        status: 200,
        durationMs: expect.any(Number),
        tenant: 'acme',
        invocationId: null,
        traceId: res.headers.get('traceparent')!.split('-')[1],
      },
    ]);
    expect(res.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('continues a valid traceparent (same trace, the gateway’s own span) and starts a new trace for a malformed one', async () => {
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const continued = await h.call('GET', '/v1/functions?tenant=acme', { key: h.acmeKey, headers: { traceparent: caller } });
    const [, traceId, spanId] = continued.headers.get('traceparent')!.split('-');
    expect(traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(spanId).not.toBe('00f067aa0ba902b7');
    const malformed = await h.call('GET', '/v1/functions?tenant=acme', { key: h.acmeKey, headers: { traceparent: caller.toUpperCase() } });
    const fresh = malformed.headers.get('traceparent')!.split('-')[1];
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh).not.toBe(traceId);
    const logged = h.logLines.filter((l) => l.msg === 'request').map((l) => l.traceId);
    expect(logged).toEqual([traceId, fresh]);
  });

  it('answers an unexpected error with 500 and a request id, and logs the error', async () => {
    h.deployer.behaviour = async () => {
      throw new TypeError('boom inside the deployer');
    };
    const res = await json(await h.deploy(h.acmeKey, 'api'));
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({ type: 'internal', requestId: expect.any(String) });
    expect(res.body.error.message).not.toContain('boom');
    expect(h.logLines).toContainEqual(
      expect.objectContaining({ level: 'error', requestId: res.body.error.requestId, error: 'TypeError', message: 'boom inside the deployer' }),
    );
  });
});
