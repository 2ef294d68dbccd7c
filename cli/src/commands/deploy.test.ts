// `fn deploy` as a user runs it: the real bin against the real gateway (fake deployer) on a socket.
import { expect, it } from 'vitest';
import { useRemote } from '../test-support/remote.js';

const remote = useRemote();

it('bundles functions/echo, deploys it, and prints the invocation URL and the version', async () => {
  const r = await remote.fn(['deploy', 'functions/echo']);
  expect(r.stderr).toMatch(/^bundling… \d+\.\d KiB in \d+ ms\ndeploying… \(building the snapshot\)\n$/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^deployed echo version 1 in \d+ ms\n/);
  expect(r.stdout).toContain(`${remote.server.url}/fn/acme/echo\n`);

  // The deployer got the esbuild bundle of functions/echo with fn.json's limits.
  const calls = remote.h.deployer.calls;
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatchObject({ tenant: 'acme', name: 'echo' });
  expect(calls[0]!.bundle).toContain('Object.fromEntries(url.searchParams)');
  expect(calls[0]!.bundle).not.toContain('import ');
  expect(calls[0]!.config).toMatchObject({ memoryMiB: 64, timeoutMs: 5000 });
});

it('--json prints one object; a redeploy is the next version and keeps env vars set with fn env', async () => {
  const first = await remote.fn(['deploy', 'functions/echo', '--json']);
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ name: 'echo', tenant: 'acme', version: 1, url: `${remote.server.url}/fn/acme/echo` });

  expect((await remote.fn(['env', 'set', 'echo', 'GREETING=hi'])).code).toBe(0); // version 2
  const second = await remote.fn(['deploy', 'functions/echo', '--json']);
  expect(second.code).toBe(0);
  const out = JSON.parse(second.stdout);
  expect(out.version).toBe(3);
  expect(out.snapshotDigest).toMatch(/^sha256:/);
  // functions/echo/fn.json says nothing about env: the live version's env var is kept (it travels
  // with invocations; the snapshot never holds env).
  const live = await (await remote.h.call('GET', '/v1/functions/echo/env', { key: remote.h.acmeKey })).json();
  expect(live).toMatchObject({ version: 3, env: { GREETING: 'hi' } });
  expect(remote.h.deployer.calls.at(-1)!.config.env).toEqual({});
});

it('a folder without fn.json is one clear line and exit 1, with nothing deployed', async () => {
  const r = await remote.fn(['deploy', 'functions']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^fn: .*fn\.json not found.*\n$/);
  expect(remote.h.deployer.calls).toHaveLength(0);
});
