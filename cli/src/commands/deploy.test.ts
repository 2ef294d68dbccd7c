// `fn deploy` as a user runs it: the real bin against the real gateway (fake deployer) on a socket.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { root, useRemote } from '../test-support/remote.js';

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

it('on a terminal, the snapshot step counts its seconds in place while the platform builds', async () => {
  // The deployer takes a while, as building a real snapshot does.
  const plain = remote.h.deployer.behaviour;
  remote.h.deployer.behaviour = async (request, signal) => {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    return plain(request, signal);
  };
  const helper = join(root, 'cli/src/test-support/pty-run.py');
  const env = { ...process.env, FN_URL: remote.server.url, FN_API_KEY: remote.h.acmeKey, HOME: remote.home, XDG_CONFIG_HOME: join(remote.home, 'config') };
  // No prompt to answer: the helper only gives the command a terminal and shows what it printed.
  const child = spawn('python3', [helper, 'no prompt', '', process.execPath, 'cli/bin/fn.js', 'deploy', 'functions/echo'], { cwd: root, env });
  let shown = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (shown += d));
  expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
  expect(shown).toMatch(/deploying… \(building the snapshot\)\r?\rdeploying… \(building the snapshot\) [12] s/);
  expect(shown).toMatch(/\r\x1b\[Kdeploying… \(building the snapshot\) \d+\.\d s\r?\n/);
  expect(shown).toMatch(/deployed echo version 1 in \d+ ms/);
});
