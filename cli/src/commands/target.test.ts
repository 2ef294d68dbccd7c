// Where the remote commands find the gateway and the key: flags, FN_URL/FN_API_KEY, `fn login`'s file.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useRemote } from '../test-support/remote.js';

const remote = useRemote();

it("a wrong key exits 1 with the server's message on one line", async () => {
  const r = await remote.fn(['list'], { FN_API_KEY: 'fn_wrong_key' });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe('fn: the API key is not valid (unknown or revoked) — check FN_API_KEY, or ask an admin for a key\n');
});

it('a missing URL or key says how to set it', async () => {
  const noUrl = await remote.fn(['list'], { FN_URL: null });
  expect(noUrl.code).toBe(1);
  expect(noUrl.stderr).toBe('fn: no gateway URL: pass --url, set FN_URL, or run `fn login --url U --key K`\n');
  const noKey = await remote.fn(['deploy', 'functions/echo'], { FN_API_KEY: null });
  expect(noKey.code).toBe(1);
  expect(noKey.stderr).toBe('fn: no API key: pass --key, set FN_API_KEY, or run `fn login --url U --key K`\n');
  expect(remote.h.deployer.calls).toHaveLength(0);
});

it('an unreachable gateway is one line naming the URL', async () => {
  const r = await remote.fn(['list'], { FN_URL: 'http://127.0.0.1:1' });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^fn: cannot reach the gateway at http:\/\/127\.0\.0\.1:1: .*\n$/);
});

it('--url and --key win over FN_URL and FN_API_KEY', async () => {
  await remote.h.deploy(remote.h.globexKey, 'theirs');
  const r = await remote.fn(['list', '--json', '--url', remote.server.url, '--key', remote.h.globexKey], {
    FN_URL: 'http://127.0.0.1:1',
    FN_API_KEY: 'fn_wrong_key',
  });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).map((f: { name: string }) => f.name)).toEqual(['theirs']);
});

it('fn login checks the key, writes $XDG_CONFIG_HOME/fn/config.json with mode 0600, and later commands use it', async () => {
  const bad = await remote.fn(['login', '--url', remote.server.url, '--key', 'fn_wrong_key'], { FN_URL: null, FN_API_KEY: null });
  expect(bad.code).toBe(1);
  const file = join(remote.home, 'config', 'fn', 'config.json');
  expect(() => statSync(file)).toThrow();

  const r = await remote.fn(['login', '--url', remote.server.url, '--key', remote.h.acmeKey], { FN_URL: null, FN_API_KEY: null });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('tenant acme');
  expect(r.stdout).not.toContain(remote.h.acmeKey);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: remote.server.url, key: remote.h.acmeKey });
  expect(statSync(file).mode & 0o777).toBe(0o600);

  await remote.h.deploy(remote.h.acmeKey, 'mine');
  const list = await remote.fn(['list', '--json'], { FN_URL: null, FN_API_KEY: null });
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout).map((f: { name: string }) => f.name)).toEqual(['mine']);

  // Without XDG_CONFIG_HOME: ~/.config/fn/config.json.
  const home = await remote.fn(['login', '--url', remote.server.url, '--key', remote.h.acmeKey], { FN_URL: null, FN_API_KEY: null, XDG_CONFIG_HOME: null });
  expect(home.code).toBe(0);
  expect(statSync(join(remote.home, '.config', 'fn', 'config.json')).mode & 0o777).toBe(0o600);
});

it('bad arguments are the usage line and exit 2', async () => {
  const r = await remote.fn(['invoke']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^fn: usage: fn invoke <name/);
});

it('fn login without --key reads the key from stdin, and --json prints what it saved', async () => {
  const env = { FN_URL: null, FN_API_KEY: null };
  const r = await remote.fn(['login', '--url', remote.server.url, '--json'], env, { stdin: `${remote.h.acmeKey}\n` });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const file = join(remote.home, 'config', 'fn', 'config.json');
  expect(JSON.parse(r.stdout)).toMatchObject({ url: remote.server.url, admin: false, tenant: 'acme', config: file });
  expect(r.stdout).not.toContain(remote.h.acmeKey);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: remote.server.url, key: remote.h.acmeKey });

  const none = await remote.fn(['login', '--url', remote.server.url], env, { stdin: '' });
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/^fn: no API key: none came on stdin/);
});
