// The CLI's API client (cli/src/api-client.ts) against the real gateway over HTTP: the client's
// hand-written shapes and routes must match what the gateway serves.
import { OverloadedError } from '@fn/contract';
import { expect, it } from 'vitest';
import { ApiClient, ApiError } from '../../cli/src/api-client.js';
import { result } from './test-support/harness.js';
import { useServedHarness } from './test-support/served-harness.js';

const served = useServedHarness();

it('drives every control route and an invocation', async () => {
  const admin = new ApiClient({ baseUrl: served.server.url, apiKey: served.h.adminKey });
  expect(await admin.whoami()).toMatchObject({ admin: true });
  await admin.createTenant('initech');
  expect((await admin.listTenants()).map((t) => t.id)).toContain('initech');
  const key = await admin.createKey('initech', 'ci');
  expect((await admin.listKeys('initech')).map((k) => k.id)).toEqual([key.id]);

  const api = new ApiClient({ baseUrl: `${served.server.url}/`, apiKey: key.secret });
  expect((await api.deploy({ name: 'svc', bundle: 'export default {}', config: { memoryMiB: 32, env: { A: '1' } } })).version).toBe(1);
  await api.deploy({ name: 'svc', bundle: 'export default { v: 2 }' });
  expect((await api.listFunctions()).map((f) => f.name)).toEqual(['svc']);
  expect((await api.describe('svc')).versions).toHaveLength(2);
  expect(await api.versions('svc')).toHaveLength(2);
  expect(await api.setAlias('svc', 'stable', 1)).toMatchObject({ name: 'stable', version: 1 });
  expect((await api.aliases('svc')).map((a) => a.name)).toEqual(['live', 'stable']);
  await api.deleteAlias('svc', 'stable');
  expect(await api.rollback('svc')).toEqual({ from: 2, to: 1 });
  expect(await api.rollback('svc', 2)).toEqual({ from: 1, to: 2 });
  expect((await api.setEnv('svc', 'B', '2')).version.env).toEqual({ A: '1', B: '2' });
  expect((await api.unsetEnv('svc', 'A')).version.env).toEqual({ B: '2' });
  expect((await api.getEnv('svc')).env).toEqual({ B: '2' });
  await api.setSecret('svc', 'TOKEN', 'shh');
  expect(await api.listSecrets('svc')).toEqual(['TOKEN']);
  expect(await api.unsetSecret('svc', 'TOKEN')).toBe(true);

  const out = await api.invoke({ tenant: 'initech', name: 'svc', path: '/hi?x=1', body: 'data' });
  expect(out).toMatchObject({ status: 200, cold: expect.any(Boolean), durationMs: 1.25 });
  expect(new TextDecoder().decode(out.body)).toBe('ran svc v4');
  expect(out.invocationId).toBe(served.h.invoker.calls[0]!.invocationId);
  const logs = await api.logs('svc');
  expect(logs.records.map((r) => r.invocationId)).toEqual([out.invocationId]);
  expect((await api.logs('svc', { after: logs.cursor })).records).toEqual([]);

  const actingAdmin = new ApiClient({ baseUrl: served.server.url, apiKey: served.h.adminKey, tenant: 'initech' });
  expect((await actingAdmin.listFunctions()).map((f) => f.name)).toEqual(['svc']);
  expect(await actingAdmin.deleteFunction('svc')).toEqual({ name: 'svc', versions: 4 });
  expect((await admin.revokeKey(key.id)).revokedAt).not.toBeNull();
});

it("turns error answers into ApiError with the status and the server's message", async () => {
  const api = new ApiClient({ baseUrl: served.server.url, apiKey: served.h.acmeKey });
  const missing = await api.describe('nope').catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(ApiError);
  expect(missing).toMatchObject({ status: 404, type: 'not_found', message: expect.stringContaining('"nope" does not exist') });
  const invalid = await api.deploy({ name: 'x', bundle: 'b', config: { memoryMiB: 1 } }).catch((e: unknown) => e);
  expect(invalid).toMatchObject({ status: 400, type: 'validation', issues: [expect.stringContaining('memoryMiB')] });
  const anonymous = await new ApiClient({ baseUrl: served.server.url }).whoami().catch((e: unknown) => e);
  expect(anonymous).toMatchObject({ status: 401 });
  const down = await new ApiClient({ baseUrl: 'http://127.0.0.1:1' }).whoami().catch((e: unknown) => e);
  expect(down).toMatchObject({ status: 0, message: expect.stringContaining('cannot reach the gateway') });
});

it("tells a gateway refusal apart from the function's own error response", async () => {
  const api = new ApiClient({ baseUrl: served.server.url, apiKey: served.h.acmeKey });
  await api.deploy({ name: 'svc', bundle: 'b' });
  served.h.invoker.behaviour = async () =>
    result({
      status: 500,
      headers: [['content-type', 'application/json']],
      body: new TextEncoder().encode('{"error":{"type":"mine","message":"own"}}'),
      logs: [],
      cold: false,
      durationMs: 1,
    });
  const own = await api.invoke({ tenant: 'acme', name: 'svc' });
  expect(own.status).toBe(500);
  expect(own.gatewayError).toBeUndefined();
  served.h.invoker.behaviour = async () => {
    throw new OverloadedError('busy', 1, 'function');
  };
  const refused = await api.invoke({ tenant: 'acme', name: 'svc' });
  expect(refused.gatewayError).toMatchObject({ status: 429, type: 'overloaded', retryAfterSeconds: 1 });
});
