// A deploy and an env change racing over a real socket (issue 13, hole 2): the env change lands
// while the deploy is still building, and must survive the deploy's commit (the deploy named no env).
import { expect, it } from 'vitest';
import { useServedHarness } from './test-support/served-harness.js';

const served = useServedHarness();

const api = (path: string, init: { method: string; json?: unknown }) =>
  fetch(`${served.server.url}${path}`, {
    method: init.method,
    headers: { authorization: `Bearer ${served.h.acmeKey}`, 'content-type': 'application/json' },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });

it('an env change made while a deploy builds is in the version the deploy makes live', async () => {
  expect((await api('/v1/functions', { method: 'POST', json: { name: 'api', bundle: 'export default {}', config: { env: { A: '1' } } } })).status).toBe(201);

  // The next build waits until the env change has answered.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let building!: () => void;
  const started = new Promise<void>((r) => (building = r));
  const normal = served.h.deployer.behaviour;
  served.h.deployer.behaviour = async (request) => {
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

// Issue 13, hole 4: deploys hold a core each, so they are bounded per tenant and dropped when
// their client goes away.
it('a tenant has at most 2 deploys in progress: the third answers 429 with Retry-After, other tenants are not held up', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const normal = served.h.deployer.behaviour;
  served.h.deployer.behaviour = async (request) => {
    if (request.tenant === 'acme') await gate;
    return normal(request);
  };
  const deployAs = (key: string, name: string) =>
    fetch(`${served.server.url}/v1/functions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, bundle: 'export default {}' }),
    });
  const first = deployAs(served.h.acmeKey, 'a1');
  const second = deployAs(served.h.acmeKey, 'a2');
  while (served.h.deployer.calls.length < 2) await new Promise((r) => setTimeout(r, 5));
  const third = await deployAs(served.h.acmeKey, 'a3');
  expect(third.status).toBe(429);
  expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(((await third.json()) as { error: { message: string } }).error.message).toMatch(/2 deploys in progress/);
  expect((await deployAs(served.h.globexKey, 'g1')).status).toBe(201);
  release();
  expect([(await first).status, (await second).status]).toEqual([201, 201]);
  expect((await deployAs(served.h.acmeKey, 'a3')).status).toBe(201);
});

it('a deploy whose client hangs up is told to stop (its signal aborts) and records no version', async () => {
  let stopped!: () => void;
  const wasStopped = new Promise<void>((r) => (stopped = r));
  served.h.deployer.behaviour = (_request, signal) =>
    new Promise((_, reject) => {
      signal?.addEventListener('abort', () => {
        stopped();
        reject(signal.reason);
      });
    });
  const client = new AbortController();
  const deploying = fetch(`${served.server.url}/v1/functions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${served.h.acmeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'spin', bundle: 'for (;;) {}' }),
    signal: client.signal,
  });
  while (served.h.deployer.calls.length < 1) await new Promise((r) => setTimeout(r, 5));
  client.abort();
  await expect(deploying).rejects.toThrow();
  await wasStopped; // without cancellation this never resolves and the test times out
  expect(served.h.deployer.signals[0]!.aborted).toBe(true);
  expect(() => served.h.registry.functions.describe('acme', 'spin')).toThrow(/does not exist/);
}, 15_000);
