// A function's response headers over a real socket (@hono/node-server), where they travel as a
// plain record (response-headers.ts): the client must see what a fetch Headers object would have
// produced — repeated names joined, one line per Set-Cookie, refused names and values dropped,
// framing and x-fn-* headers the gateway's own — plus the request id the request log stamps.
import { request } from 'node:http';
import { expect, it } from 'vitest';
import { result } from './test-support/harness.js';
import { useServedHarness } from './test-support/served-harness.js';

const served = useServedHarness();

/** The raw header lines of one GET (node:http keeps repeated lines apart in rawHeaders). */
function get(path: string): Promise<{ status: number; raw: [string, string][]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${served.server.url}${path}`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const raw: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode!, raw, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
const values = (raw: [string, string][], name: string) => raw.filter(([n]) => n === name).map(([, v]) => v);

it('sends the headers a fetch Headers object would have: repeated names joined, refused ones dropped, framing and x-fn-* its own', async () => {
  await served.h.deploy(served.h.acmeKey, 'api', { public: true });
  served.h.invoker.behaviour = async () =>
    result({
      status: 201,
      headers: [
        ['X-Multi', 'one'],
        ['x-multi', 'two'],
        ['X-Padded', '  kept  '],
        ['bad name', 'dropped'],
        ['x-bad-value', 'line\r\nbreak'],
        ['x-fn-cold-start', 'forged'],
        ['content-length', '999'],
        ['Connection', 'close'],
      ],
      body: new TextEncoder().encode('made'),
    });
  const res = await get('/fn/acme/api');
  expect(res.status).toBe(201);
  expect(res.body).toBe('made');
  expect(values(res.raw, 'x-multi')).toEqual(['one, two']);
  expect(values(res.raw, 'x-padded')).toEqual(['kept']);
  expect(values(res.raw, 'bad name')).toEqual([]);
  expect(values(res.raw, 'x-bad-value')).toEqual([]);
  expect(values(res.raw, 'x-fn-cold-start')).toEqual(['false']);
  expect(values(res.raw, 'content-length')).toEqual(['4']);
  expect(values(res.raw, 'connection')).not.toContain('close');
  expect(values(res.raw, 'content-type')).toEqual(['text/plain; charset=UTF-8']);
  const id = served.h.invoker.calls[0]!.invocationId;
  expect(values(res.raw, 'x-fn-invocation-id')).toEqual([id]);
  expect(values(res.raw, 'x-fn-request-id')).toEqual([id]);
  expect(values(res.raw, 'server-timing')).toHaveLength(1);
});

it("keeps a function's own Content-Type and a single cookie, and sends no body on a 204", async () => {
  await served.h.deploy(served.h.acmeKey, 'api', { public: true });
  served.h.invoker.behaviour = async () =>
    result({
      status: 204,
      headers: [
        ['content-type', 'application/json'],
        ['set-cookie', 'only=1'],
      ],
      body: new TextEncoder().encode('ignored'),
    });
  const res = await get('/fn/acme/api');
  expect(res.status).toBe(204);
  expect(res.body).toBe('');
  expect(values(res.raw, 'content-type')).toEqual(['application/json']);
  expect(values(res.raw, 'set-cookie')).toEqual(['only=1']);
  expect(values(res.raw, 'x-fn-request-id')).toHaveLength(1);
});

it('sends one line per Set-Cookie when a function sets several', async () => {
  await served.h.deploy(served.h.acmeKey, 'api', { public: true });
  served.h.invoker.behaviour = async () =>
    result({
      status: 200,
      headers: [
        ['Set-Cookie', 'a=1; Path=/'],
        ['set-cookie', 'b=2'],
      ],
      body: new TextEncoder().encode('ok'),
    });
  const res = await get('/fn/acme/api');
  expect(values(res.raw, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2']);
  expect(values(res.raw, 'x-fn-request-id')).toHaveLength(1);
  expect(values(res.raw, 'x-fn-invocation-id')).toHaveLength(1);
});
