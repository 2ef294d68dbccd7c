// A deploy and an env change racing over a real socket (issue 13, hole 2): the env change lands
// while the deploy is still building, and must survive the deploy's commit (the deploy named no env).
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startServer, type RunningServer } from './server.js';
import { createHarness, type Harness } from './test-support/harness.js';

let h: Harness;
let server: RunningServer;
beforeEach(async () => {
  h = createHarness();
  server = await startServer(h.app, { port: 0 });
});
afterEach(async () => {
  await server.close();
  h.close();
});

const api = (path: string, init: { method: string; json?: unknown }) =>
  fetch(`${server.url}${path}`, {
    method: init.method,
    headers: { authorization: `Bearer ${h.acmeKey}`, 'content-type': 'application/json' },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });

it('an env change made while a deploy builds is in the version the deploy makes live', async () => {
  expect((await api('/v1/functions', { method: 'POST', json: { name: 'api', bundle: 'export default {}', config: { env: { A: '1' } } } })).status).toBe(201);

  // The next build waits until the env change has answered.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let building!: () => void;
  const started = new Promise<void>((r) => (building = r));
  const normal = h.deployer.behaviour;
  h.deployer.behaviour = async (request) => {
    building();
    await gate;
    return normal(request);
  };

  const deploying = api('/v1/functions', { method: 'POST', json: { name: 'api', bundle: 'export default { v: 2 }', config: {} } });
  await started;
  const envChange = await api('/v1/functions/api/env/B', { method: 'PUT', json: { value: '2' } });
  expect(envChange.status).toBe(200);
  expect(((await envChange.json()) as { version: { version: number } }).version.version).toBe(2);
  release();
  const deployed = await deploying;
  expect(deployed.status).toBe(201);
  const v3 = (await deployed.json()) as { version: number; env: Record<string, string> };
  expect(v3.version).toBe(3);
  expect(v3.env).toEqual({ A: '1', B: '2' });

  const live = (await (await api('/v1/functions/api/env', { method: 'GET' })).json()) as { version: number; env: Record<string, string> };
  expect(live).toEqual({ version: 3, env: { A: '1', B: '2' } });
});

it('a deploy that names its env sets exactly that env', async () => {
  expect((await api('/v1/functions', { method: 'POST', json: { name: 'api', bundle: 'export default {}', config: { env: { A: '1' } } } })).status).toBe(201);
  expect((await api('/v1/functions/api/env/B', { method: 'PUT', json: { value: '2' } })).status).toBe(200);
  const deployed = await api('/v1/functions', { method: 'POST', json: { name: 'api', bundle: 'export default {}', config: { env: { C: '3' } } } });
  expect(((await deployed.json()) as { env: Record<string, string> }).env).toEqual({ C: '3' });
});
