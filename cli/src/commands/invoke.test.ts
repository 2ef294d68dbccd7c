// `fn invoke` against the real gateway (fake invoker) over a socket.
import { expect, it } from 'vitest';
import { useRemote } from '../test-support/remote.js';
import { result } from '../../../gateway/src/test-support/harness.js';

const remote = useRemote();

it("calls /fn/<tenant>/<name>/… with the key's tenant and prints the function's body", async () => {
  expect((await remote.h.deploy(remote.h.acmeKey, 'echo')).status).toBe(201);
  const r = await remote.fn(['invoke', 'echo', '-d', '{"a":1}', '--path', '/p?q=1', '-H', 'X-Thing: yes', '-X', 'put']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('ran echo v1');
  const [call] = remote.h.invoker.calls;
  expect(call).toMatchObject({ tenant: 'acme', function: 'echo', version: 1, request: { method: 'PUT', url: '/p?q=1' } });
  expect(new TextDecoder().decode(call!.request.body)).toBe('{"a":1}');
  expect(call!.request.headers).toContainEqual(['x-thing', 'yes']);
});

it('--json prints status, headers, body and the x-fn-* headers', async () => {
  await remote.h.deploy(remote.h.acmeKey, 'echo');
  const r = await remote.fn(['invoke', 'echo', '--json']);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ status: 200, body: 'ran echo v1', durationMs: 1.25, invocationId: remote.h.invoker.calls[0]!.invocationId });
  expect(out.headers['content-type']).toBe('text/plain');
  expect(out.fn).toMatchObject({ 'x-fn-invocation-id': out.invocationId, 'x-fn-duration-ms': '1.25', 'x-fn-cold-start': expect.any(String) });
  expect(remote.h.invoker.calls[0]!.request.method).toBe('GET');
});

it('an admin key names the tenant with --tenant; without it, it acts for "default" and says so', async () => {
  await remote.h.deploy(remote.h.acmeKey, 'echo');
  const without = await remote.fn(['invoke', 'echo'], { FN_API_KEY: remote.h.adminKey });
  // This gateway has no tenant "default": its message, after the one line that names the tenant.
  expect(without.code).toBe(1);
  expect(without.stderr).toMatch(/^fn: an admin key and no --tenant: acting for tenant "default"\nfn: tenant "default" does not exist.*\n$/);
  const r = await remote.fn(['invoke', 'echo', '--tenant', 'acme'], { FN_API_KEY: remote.h.adminKey });
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('ran echo v1');
  expect(r.stderr).toBe('');
});

it("a function's own error status is printed and exits 1; a missing function is the gateway's message", async () => {
  await remote.h.deploy(remote.h.acmeKey, 'echo');
  remote.h.invoker.behaviour = async () => result({ status: 404, headers: [['content-type', 'text/plain']], body: new TextEncoder().encode('no such user') });
  const r = await remote.fn(['invoke', 'echo']);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('no such user');
  expect(r.stderr).toBe('fn: the function answered 404\n');

  const missing = await remote.fn(['invoke', 'nope']);
  expect(missing.code).toBe(1);
  expect(missing.stdout).toBe('');
  expect(missing.stderr).toMatch(/^fn: .*nope.*\n$/);
});
