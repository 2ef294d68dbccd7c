// Tenant isolation through HTTP: acme's key can never see, invoke privately, overwrite, delete or
// read the logs of globex's functions. Public functions are invocable by anyone, without a key.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = createHarness();
  expect((await h.deploy(h.globexKey, 'secret-fn', { env: { OWNER: 'globex' } })).status).toBe(201);
  expect((await h.deploy(h.globexKey, 'open-fn', { public: true })).status).toBe(201);
  expect((await h.call('GET', '/fn/globex/secret-fn', { key: h.globexKey })).status).toBe(200);
});
afterEach(() => h.close());

describe('acme cannot reach globex through the control API', () => {
  it('list shows only its own functions, and naming globex is forbidden', async () => {
    const res = await h.call('GET', '/v1/functions', { key: h.acmeKey });
    expect(((await res.json()) as any).functions).toEqual([]);
    expect((await h.call('GET', '/v1/functions?tenant=globex', { key: h.acmeKey })).status).toBe(403);
  });

  it('describe, versions, aliases, env and secrets of globex functions are not found', async () => {
    for (const path of [
      '/v1/functions/secret-fn',
      '/v1/functions/secret-fn/versions',
      '/v1/functions/secret-fn/aliases',
      '/v1/functions/secret-fn/env',
      '/v1/functions/secret-fn/secrets',
    ]) {
      expect((await h.call('GET', path, { key: h.acmeKey })).status, path).toBe(404);
    }
  });

  it('delete, rollback, alias, env and secret changes do not touch globex', async () => {
    expect((await h.call('DELETE', '/v1/functions/secret-fn', { key: h.acmeKey })).status).toBe(404);
    expect((await h.call('POST', '/v1/functions/secret-fn/rollback', { key: h.acmeKey, json: { version: 1 } })).status).toBe(404);
    expect((await h.call('PUT', '/v1/functions/secret-fn/aliases/x', { key: h.acmeKey, json: { version: 1 } })).status).toBe(404);
    expect((await h.call('PUT', '/v1/functions/secret-fn/env/OWNER', { key: h.acmeKey, json: { value: 'acme' } })).status).toBe(404);
    expect((await h.call('PUT', '/v1/functions/secret-fn/secrets/S', { key: h.acmeKey, json: { value: 'x' } })).status).toBe(404);
    expect((await h.call('DELETE', '/v1/functions/secret-fn/secrets/S', { key: h.acmeKey, headers: {} })).status).toBe(404);
    const globex = h.registry.functions.describe('globex', 'secret-fn');
    expect(globex.versions).toHaveLength(1);
    expect(globex.aliases.map((a) => a.name)).toEqual(['live']);
    expect(globex.versions[0]!.env).toEqual({ OWNER: 'globex' });
    expect(globex.secrets).toEqual([]);
  });

  it("deploying the same name creates acme's own function, globex's stays as it was", async () => {
    const before = h.registry.functions.resolve('globex', 'secret-fn');
    const res = await h.deploy(h.acmeKey, 'secret-fn');
    expect(((await res.json()) as any).tenant).toBe('acme');
    expect(h.registry.functions.resolve('globex', 'secret-fn')).toEqual(before);
    await h.call('GET', '/fn/acme/secret-fn', { key: h.acmeKey });
    expect(h.invoker.calls.at(-1)).toMatchObject({ tenant: 'acme', snapshotKey: h.registry.functions.resolve('acme', 'secret-fn').snapshotDigest });
  });

  it('the logs of globex functions are not readable', async () => {
    await h.deploy(h.acmeKey, 'secret-fn');
    const res = await h.call('GET', '/v1/functions/secret-fn/logs', { key: h.acmeKey });
    expect(((await res.json()) as any).records).toEqual([]);
    expect((await h.call('GET', '/v1/functions/secret-fn/logs?tenant=globex', { key: h.acmeKey })).status).toBe(403);
    const own = await h.call('GET', '/v1/functions/secret-fn/logs', { key: h.globexKey });
    expect(((await own.json()) as any).records).toHaveLength(1);
  });

  it('acme cannot list or revoke globex keys', async () => {
    expect((await h.call('GET', '/v1/keys?tenant=globex', { key: h.acmeKey })).status).toBe(403);
    const globexKeyId = h.registry.keys.authenticate(h.globexKey)!.keyId;
    expect((await h.call('DELETE', `/v1/keys/${globexKeyId}`, { key: h.acmeKey })).status).toBe(403);
    expect(h.registry.keys.authenticate(h.globexKey)).not.toBeNull();
  });
});

describe('invocation', () => {
  it('acme cannot invoke a private globex function (404, the invoker is never called)', async () => {
    const calls = h.invoker.calls.length;
    for (const path of ['/fn/globex/secret-fn', '/fn/globex/secret-fn@1', '/fn/globex/secret-fn@live/x']) {
      expect((await h.call('POST', path, { key: h.acmeKey, body: 'hi' })).status, path).toBe(404);
    }
    expect(h.invoker.calls).toHaveLength(calls);
  });

  it('without a key a private function is 401, the same as a missing one', async () => {
    const calls = h.invoker.calls.length;
    expect((await h.call('GET', '/fn/globex/secret-fn')).status).toBe(401);
    expect((await h.call('GET', '/fn/globex/no-such-fn')).status).toBe(401);
    expect(h.invoker.calls).toHaveLength(calls);
  });

  it('a public function is invocable without a key and by other tenants; its logs go to its owner', async () => {
    const anonymous = await h.call('GET', '/fn/globex/open-fn/hello');
    expect(anonymous.status).toBe(200);
    expect(await anonymous.text()).toBe('ran open-fn v1');
    expect((await h.call('GET', '/fn/globex/open-fn', { key: h.acmeKey })).status).toBe(200);
    const logs = await h.call('GET', '/v1/functions/open-fn/logs', { key: h.globexKey });
    expect(((await logs.json()) as any).records).toHaveLength(2);
  });

  it('the admin may invoke any function', async () => {
    expect((await h.call('GET', '/fn/globex/secret-fn', { key: h.adminKey })).status).toBe(200);
  });
});

describe('an old public version is closed when the function goes private (issue 13, hole 1)', () => {
  it('/fn/globex/open-fn@1 answers 401 without a key and 404 to acme once v2 is private, and no secret leaves', async () => {
    expect((await h.call('GET', '/fn/globex/open-fn@1')).status).toBe(200);
    expect((await h.deploy(h.globexKey, 'open-fn', { public: false })).status).toBe(201);
    expect((await h.call('PUT', '/v1/functions/open-fn/secrets/TOKEN', { key: h.globexKey, json: { value: 'after-close' } })).status).toBe(200);
    const before = h.invoker.calls.length;
    for (const path of ['/fn/globex/open-fn@1', '/fn/globex/open-fn@2', '/fn/globex/open-fn']) {
      expect((await h.call('GET', path)).status, path).toBe(401);
      expect((await h.call('GET', path, { key: h.acmeKey })).status, path).toBe(404);
    }
    expect(h.invoker.calls.length).toBe(before);
    expect((await h.call('GET', '/fn/globex/open-fn@1', { key: h.globexKey })).status).toBe(200);
  });
});
