// Requests the control API refuses: unknown fields, malformed bodies and parameters, bad keys.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = createHarness();
  await h.deploy(h.acmeKey, 'api');
});
afterEach(() => h.close());

async function refused(res: Response, status = 400) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { type: string; message: string; issues?: string[]; requestId: string } };
  expect(body.error.requestId).toBe(res.headers.get('x-fn-request-id'));
  return body.error;
}

describe('unknown fields are rejected (400 with issues)', () => {
  it('at the top of a deploy body', async () => {
    const error = await refused(await h.call('POST', '/v1/functions', { key: h.acmeKey, json: { name: 'x', bundle: 'export default {}', colour: 'red' } }));
    expect(error.type).toBe('validation');
    expect(error.issues).toEqual([expect.stringContaining('colour')]);
  });

  it('inside a deploy config', async () => {
    const error = await refused(await h.deploy(h.acmeKey, 'api', { memoryMb: 64 }));
    expect(error.issues).toEqual([expect.stringMatching(/^body\.config.*memoryMb/)]);
  });

  it('in the bodies of the other routes', async () => {
    await refused(await h.call('PUT', '/v1/functions/api/aliases/staging', { key: h.acmeKey, json: { version: 1, force: true } }));
    await refused(await h.call('POST', '/v1/functions/api/rollback', { key: h.acmeKey, json: { version: 1, dryRun: true } }));
    await refused(await h.call('PUT', '/v1/functions/api/env/A', { key: h.acmeKey, json: { value: '1', secret: true } }));
    await refused(await h.call('PUT', '/v1/functions/api/secrets/A', { key: h.acmeKey, json: { value: '1', note: 'x' } }));
    await refused(await h.call('POST', '/v1/tenants', { key: h.adminKey, json: { name: 'x', plan: 'gold' } }));
    await refused(await h.call('POST', '/v1/keys', { key: h.adminKey, json: { tenant: 'acme', label: 'x', scope: 'all' } }));
    expect(h.registry.functions.aliases('acme', 'api')).toHaveLength(1);
  });

  it('in the query string', async () => {
    const error = await refused(await h.call('GET', '/v1/functions?verbose=1', { key: h.acmeKey }));
    expect(error.issues).toEqual([expect.stringContaining('verbose')]);
    await refused(await h.call('GET', '/v1/functions/api/logs?cursor=3', { key: h.acmeKey }));
  });
});

describe('malformed requests', () => {
  it('a body that is not JSON', async () => {
    const error = await refused(await h.call('POST', '/v1/functions', { key: h.acmeKey, body: '{ not json', headers: { 'content-type': 'application/json' } }));
    expect(error.message).toContain('not valid UTF-8 JSON');
  });

  it('a missing body where one is required', async () => {
    await refused(await h.call('POST', '/v1/functions', { key: h.acmeKey }));
  });

  it('bad names, versions and query numbers', async () => {
    await refused(await h.deploy(h.acmeKey, 'Bad_Name'));
    await refused(await h.call('GET', '/v1/functions/NOPE', { key: h.acmeKey }));
    await refused(await h.call('PUT', '/v1/functions/api/aliases/123', { key: h.acmeKey, json: { version: 1 } }));
    await refused(await h.call('PUT', '/v1/functions/api/aliases/staging', { key: h.acmeKey, json: { version: 0 } }));
    await refused(await h.call('PUT', '/v1/functions/api/env/1BAD', { key: h.acmeKey, json: { value: 'x' } }));
    await refused(await h.call('GET', '/v1/functions/api/logs?limit=abc', { key: h.acmeKey }));
    await refused(await h.call('GET', '/v1/functions/api/logs?limit=5000', { key: h.acmeKey }));
  });

  it('a deploy body over its limit is 413', async () => {
    const small = createHarness({ limits: { deployBodyBytes: 1000 } });
    try {
      const error = await refused(await small.deploy(small.acmeKey, 'api', {}, 'x'.repeat(2000)), 413);
      expect(error.type).toBe('payload_too_large');
      expect(small.deployer.calls).toHaveLength(0);
    } finally {
      small.close();
    }
  });

  it('an unknown route is a JSON 404', async () => {
    const error = await refused(await h.call('GET', '/v1/nothing-here', { key: h.acmeKey }), 404);
    expect(error.type).toBe('not_found');
    await refused(await h.call('GET', '/elsewhere'), 404);
  });
});

describe('authentication (401)', () => {
  it('without a key', async () => {
    const res = await h.call('GET', '/v1/functions');
    const error = await refused(res, 401);
    expect(error.type).toBe('unauthorized');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('with an unknown, a malformed or a revoked key', async () => {
    await refused(await h.call('GET', '/v1/functions', { key: 'fn_0000000000000000_nope' }), 401);
    await refused(await h.call('GET', '/v1/functions', { headers: { authorization: `Basic ${h.acmeKey}` } }), 401);
    await refused(await h.call('GET', '/v1/functions', { headers: { authorization: 'Bearer' } }), 401);
    const id = h.registry.keys.list(h.registry.keys.authenticate(h.acmeKey)!)[0]!.id;
    h.registry.keys.revoke({ tenantId: null }, id);
    await refused(await h.call('GET', '/v1/functions', { key: h.acmeKey }), 401);
  });

  it('on every control route, before anything is read or changed', async () => {
    for (const [method, path] of [
      ['POST', '/v1/functions'],
      ['DELETE', '/v1/functions/api'],
      ['PUT', '/v1/functions/api/secrets/A'],
      ['POST', '/v1/tenants'],
      ['POST', '/v1/keys'],
      ['GET', '/v1/functions/api/logs'],
    ] as const) {
      const json = method === 'GET' || method === 'DELETE' ? undefined : { name: 'x', bundle: 'x', value: 'x', tenant: 'acme', label: 'x' };
      await refused(await h.call(method, path, { json }), 401);
    }
    expect(h.registry.functions.list('acme')).toHaveLength(1);
  });

  it('a wrong key on an invocation is 401 even for a public function', async () => {
    await h.deploy(h.acmeKey, 'pub', { public: true });
    await refused(await h.call('GET', '/fn/acme/pub', { key: 'fn_0000000000000000_nope' }), 401);
    expect(h.invoker.calls).toHaveLength(0);
  });
});

describe('__proto__ as an env or secret name (issue 13, hole 7)', () => {
  it('PUT …/env/__proto__ and …/secrets/__proto__ answer 400 saying why, and change nothing', async () => {
    const hp = createHarness();
    try {
      expect((await hp.deploy(hp.acmeKey, 'api')).status).toBe(201);
      for (const path of ['/v1/functions/api/env/__proto__', '/v1/functions/api/secrets/__proto__']) {
        const res = await hp.call('PUT', path, { key: hp.acmeKey, json: { value: 'x' } });
        expect(res.status, path).toBe(400);
        expect(JSON.stringify(await res.json()), path).toMatch(/__proto__ cannot be a variable or secret name/);
      }
      expect(hp.registry.functions.versions('acme', 'api')).toHaveLength(1);
    } finally {
      hp.close();
    }
  });
});
