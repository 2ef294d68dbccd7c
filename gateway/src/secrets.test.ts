// Secret values never leave through HTTP: not in any response, not in any log line.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHarness, type Harness } from './test-support/harness.js';

const SECRET = 'sk_live_7f3a9c1e5b2d8f4a6c0e';
let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(() => h.close());

it('a secret value appears in no response and no log line, while the function gets it', async () => {
  const bodies: string[] = [];
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await h.call(method, path, { key: h.acmeKey, ...(json !== undefined ? { json } : {}) });
    bodies.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    return res;
  };
  await call('POST', '/v1/functions', { name: 'api', bundle: 'export default {}', config: { env: { PLAIN: 'visible' } } });
  expect((await call('PUT', '/v1/functions/api/secrets/API_TOKEN', { value: SECRET })).status).toBe(200);
  // A rejected write must not echo the value either.
  expect((await call('PUT', '/v1/functions/api/secrets/PLAIN', { value: SECRET })).status).toBe(409);
  expect((await call('PUT', '/v1/functions/api/secrets/API_TOKEN', { value: SECRET, extra: SECRET })).status).toBe(400);
  await call('POST', '/v1/functions', { name: 'api', bundle: 'export default {}' });
  for (const path of [
    '/v1/functions',
    '/v1/functions/api',
    '/v1/functions/api/versions',
    '/v1/functions/api/aliases',
    '/v1/functions/api/env',
    '/v1/functions/api/secrets',
    '/v1/functions/api/logs',
  ]) {
    expect((await call('GET', path)).status, path).toBe(200);
  }
  await call('GET', '/fn/acme/api');
  await call('POST', '/v1/functions/api/rollback');
  await call('PUT', '/v1/functions/api/env/OTHER', { value: 'x' });
  await call('DELETE', '/v1/functions/api/secrets/API_TOKEN');

  expect(bodies.join('\n')).toContain('API_TOKEN');
  expect(bodies.join('\n')).not.toContain(SECRET);
  expect(JSON.stringify(h.logLines)).not.toContain(SECRET);
  // It did reach the function, with the invocation, and never went into a snapshot.
  const invoked = h.invoker.calls.find((c) => c.function === 'api');
  expect(invoked?.env.API_TOKEN).toBe(SECRET);
  for (const d of h.deployer.calls) expect(JSON.stringify(d.config.env)).not.toContain(SECRET);
});
