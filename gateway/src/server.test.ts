// The real server: @hono/node-server on port 0, a real HTTP request over a socket.
import { expect, it } from 'vitest';
import { startServer } from './server.js';
import { useServedHarness } from './test-support/served-harness.js';

const served = useServedHarness();

it('listens on loopback and serves the control API and invocations over HTTP', async () => {
  expect(served.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(served.server.port).toBeGreaterThan(0);
  const whoami = await fetch(`${served.server.url}/v1/whoami`, { headers: { authorization: `Bearer ${served.h.acmeKey}` } });
  expect(whoami.status).toBe(200);
  expect(await whoami.json()).toMatchObject({ tenant: 'acme' });

  await served.h.deploy(served.h.acmeKey, 'api', { public: true });
  const res = await fetch(`${served.server.url}/fn/acme/api/echo?x=1`, { method: 'POST', body: 'over a socket' });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('ran api v1');
  expect(res.headers.get('x-fn-invocation-id')).toBe(served.h.invoker.calls[0]!.invocationId);
  expect(new TextDecoder().decode(served.h.invoker.calls[0]!.request.body)).toBe('over a socket');
  expect(served.h.invoker.calls[0]!.request.url).toBe('/echo?x=1');
});

it("forwards the same headers over a socket as fetch's Headers would, and reads no body where none is framed", async () => {
  await served.h.deploy(served.h.acmeKey, 'api');
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    // Raw header lines, repeated and mixed-case, as a client may send them.
    const req = request(`${served.server.url}/fn/acme/api`, {
      method: 'GET',
      headers: { Authorization: `Bearer ${served.h.acmeKey}`, 'X-Tag': ['a', 'b'], Accept: 'text/plain', Connection: 'keep-alive' },
    });
    req.on('response', (res) => (res.resume(), res.on('end', () => resolve(res.statusCode!))));
    req.on('error', reject);
    req.end();
  });
  expect(status).toBe(200);
  const got = served.h.invoker.calls[0]!.request;
  expect(got.body.byteLength).toBe(0);
  expect(got.headers).toContainEqual(['x-tag', 'a, b']);
  expect(got.headers).toContainEqual(['accept', 'text/plain']);
  expect(got.headers.map(([n]) => n)).not.toContain('authorization');
  expect(got.headers.map(([n]) => n)).not.toContain('connection');
  expect(got.headers.map(([n]) => n)).toEqual([...got.headers.map(([n]) => n)].sort());
});

it('close() resolves although a keep-alive connection is open', async () => {
  await fetch(`${served.server.url}/openapi.json`, { headers: { connection: 'keep-alive' } }).then((r) => r.arrayBuffer());
  await served.server.close();
  await expect(fetch(`${served.server.url}/openapi.json`)).rejects.toThrow();
  served.server = await startServer(served.h.app, { port: 0 }); // afterEach closes the one it holds
});
