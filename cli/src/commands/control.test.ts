// The control commands (list, describe, rm, rollback, env, secret, logs) against the real gateway.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { root, useRemote } from '../test-support/remote.js';

const remote = useRemote();
const deploy = async (name: string, times = 1) => {
  for (let i = 0; i < times; i++) expect((await remote.h.deploy(remote.h.acmeKey, name)).status).toBe(201);
};
const invoke = async (name: string) => {
  const res = await remote.h.call('GET', `/fn/acme/${name}/`, { key: remote.h.acmeKey });
  expect(res.status).toBe(200);
  return res.headers.get('x-fn-invocation-id')!;
};

it("list shows the tenant's functions and their live version; --json gives the array", async () => {
  await deploy('alpha', 2);
  await deploy('beta');
  await remote.h.deploy(remote.h.globexKey, 'other');
  const r = await remote.fn(['list']);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^NAME\s+LIVE\s+LATEST\s+PUBLIC\s+UPDATED$/);
  expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
    ['alpha', '2', '2'],
    ['beta', '1', '1'],
  ]);
  const json = await remote.fn(['list', '--json']);
  expect(JSON.parse(json.stdout).map((f: { name: string }) => f.name)).toEqual(['alpha', 'beta']);
});

it('describe shows versions, aliases, env and secret names; rm deletes the function', async () => {
  await deploy('alpha', 2);
  expect((await remote.h.call('PUT', '/v1/functions/alpha/secrets/TOKEN', { key: remote.h.acmeKey, json: { value: 'shh' } })).status).toBe(200);
  const r = await remote.fn(['describe', 'alpha']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^name: +alpha$/m);
  expect(r.stdout).toMatch(/^live: +2 +latest: 2/m);
  expect(r.stdout).toMatch(/^aliases: +live→2$/m);
  expect(r.stdout).toMatch(/^secrets: +TOKEN$/m);
  expect(r.stdout).toMatch(/^2 \(live\) +128 MiB/m);
  expect(r.stdout).toMatch(/^1 +128 MiB/m);
  const json = JSON.parse((await remote.fn(['describe', 'alpha', '--json'])).stdout);
  expect(json.versions).toHaveLength(2);

  const rm = await remote.fn(['rm', 'alpha']);
  expect(rm).toMatchObject({ code: 0, stdout: 'deleted alpha (2 versions)\n' });
  expect((await remote.h.call('GET', '/v1/functions/alpha', { key: remote.h.acmeKey })).status).toBe(404);
  const again = await remote.fn(['describe', 'alpha']);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/^fn: .*alpha.*\n$/);
});

it('rollback moves live down one version, or to the version named', async () => {
  await deploy('alpha', 3);
  const down = await remote.fn(['rollback', 'alpha']);
  expect(down).toMatchObject({ code: 0, stdout: 'alpha: live moved from version 3 to 2\n' });
  const to = await remote.fn(['rollback', 'alpha', '1', '--json']);
  expect(JSON.parse(to.stdout)).toEqual({ from: 2, to: 1 });
  const { liveVersion } = (await (await remote.h.call('GET', '/v1/functions/alpha', { key: remote.h.acmeKey })).json()) as { liveVersion: number };
  expect(liveVersion).toBe(1);
  const bad = await remote.fn(['rollback', 'alpha', '9']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^fn: .+\n$/);
});

it('env set and unset publish versions with the vars; env get prints them', async () => {
  await deploy('alpha');
  const set = await remote.fn(['env', 'set', 'alpha', 'A=1', 'B=x=y']);
  expect(set.code).toBe(0);
  expect(set.stdout).toMatch(/^set A, B on alpha: live is version 3/);
  const unset = await remote.fn(['env', 'unset', 'alpha', 'A', '--json']);
  expect(JSON.parse(unset.stdout)).toMatchObject({ version: 4, env: { B: 'x=y' } });
  const get = await remote.fn(['env', 'get', 'alpha']);
  expect(get.stdout).toBe('B=x=y\n');
  const bad = await remote.fn(['env', 'set', 'alpha', 'NOEQUALS']);
  expect(bad.code).toBe(2);
});

it('secret set stores the value without printing it anywhere', async () => {
  await deploy('alpha');
  const value = 'hunter2-very-secret';
  const r = await remote.fn(['secret', 'set', 'alpha', `TOKEN=${value}`]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('set secret TOKEN on alpha (the next invocation sees it)\n');
  expect(r.stdout + r.stderr).not.toContain(value);
  expect(JSON.stringify(remote.h.logLines)).not.toContain(value);
  // It arrives with the next invocation, and never goes into a snapshot.
  await remote.fn(['invoke', 'alpha']);
  expect(remote.h.invoker.calls.at(-1)!.env).toMatchObject({ TOKEN: value });
  await deploy('alpha');
  expect(JSON.stringify(remote.h.deployer.calls.at(-1)!.config.env)).not.toContain(value);
  const list = await remote.fn(['secret', 'list', 'alpha']);
  expect(list.stdout).toBe('TOKEN\n');

  // A malformed argument is not echoed either.
  const bad = await remote.fn(['secret', 'set', 'alpha', value]);
  expect(bad.code).toBe(2);
  expect(bad.stdout + bad.stderr).not.toContain(value);
});

it('logs prints the invocation records with their console lines', async () => {
  await deploy('alpha');
  const id = await invoke('alpha');
  const r = await remote.fn(['logs', 'alpha']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  v1  ok  1.25 ms.*  ${id}\\n  \\[log\\] hello from alpha\\n$`));
  const json = await remote.fn(['logs', 'alpha', '--json']);
  expect(JSON.parse(json.stdout)).toMatchObject({ invocationId: id, status: 'ok', version: 1 });
});

it('logs --follow polls from the cursor for new records until Ctrl-C', async () => {
  await deploy('alpha');
  const first = await invoke('alpha');
  let second: Promise<string> | undefined;
  let interrupted = false;
  const r = await remote.fn(
    ['logs', 'alpha', '--follow', '--json'],
    {},
    {
      onStdout: (out, child) => {
        const n = out.split('\n').filter(Boolean).length;
        if (n === 1 && !second) second = invoke('alpha');
        if (n === 2 && !interrupted) {
          interrupted = true;
          child.kill('SIGINT');
        }
      },
    },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const ids = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).invocationId);
  // Each record once: the follow asked for the records after the cursor, not the newest again.
  expect(ids).toEqual([first, await second]);
});

it('status shows the disk of the snapshot store to an admin key, and refuses a tenant key', async () => {
  const admin = await remote.fn(['status'], { FN_API_KEY: remote.h.adminKey });
  expect(admin).toMatchObject({ code: 0, stdout: 'snapshots: this gateway has no snapshot store\n' });
  const tenant = await remote.fn(['status']);
  expect(tenant.code).toBe(1);
  expect(tenant.stderr).toMatch(/only an admin key can read the platform status/);
});

it('an admin key without --tenant acts for the tenant "default", says so once on stderr, and keeps stdout clean', async () => {
  expect((await remote.h.call('POST', '/v1/tenants', { key: remote.h.adminKey, json: { name: 'default' } })).status).toBe(201);
  const admin = { FN_API_KEY: remote.h.adminKey };
  const deployed = await remote.fn(['deploy', 'functions/echo', '--json'], admin);
  expect(deployed.code).toBe(0);
  expect(JSON.parse(deployed.stdout)).toMatchObject({ tenant: 'default', name: 'echo', version: 1 });
  const notice = 'fn: an admin key and no --tenant: acting for tenant "default"\n';
  expect(deployed.stderr.split(notice)).toHaveLength(2);

  const list = await remote.fn(['list', '--json'], admin);
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout).map((f: { name: string }) => f.name)).toEqual(['echo']);
  expect(list.stderr).toBe(notice);
  // acme's functions are not default's; --tenant still picks another tenant, silently.
  await deploy('alpha');
  const acme = await remote.fn(['list', '--json', '--tenant', 'acme'], admin);
  expect(JSON.parse(acme.stdout).map((f: { name: string }) => f.name)).toEqual(['alpha']);
  expect(acme.stderr).toBe('');
  // A tenant key is never told anything about "default".
  expect((await remote.fn(['list', '--json'])).stderr).toBe('');
});

it('secret set NAME reads the value from stdin; KEY=VALUE still works with a warning; --json on every form', async () => {
  await deploy('alpha');
  const value = 'piped-secret-value';
  const piped = await remote.fn(['secret', 'set', 'alpha', 'TOKEN'], {}, { stdin: `${value}\n` });
  expect(piped).toMatchObject({ code: 0, stdout: 'set secret TOKEN on alpha (the next invocation sees it)\n', stderr: '' });
  await remote.fn(['invoke', 'alpha']);
  // One trailing newline (echo's) is not part of the value.
  expect(remote.h.invoker.calls.at(-1)!.env).toMatchObject({ TOKEN: value });

  const empty = await remote.fn(['secret', 'set', 'alpha', 'OTHER'], {}, { stdin: '' });
  expect(empty.code).toBe(2);
  expect(empty.stderr).toMatch(/^fn: the secret OTHER needs a value: none came on stdin\n$/);

  const inline = await remote.fn(['secret', 'set', 'alpha', 'INLINE=abc', '--json']);
  expect(inline.code).toBe(0);
  expect(JSON.parse(inline.stdout)).toEqual({ name: 'alpha', key: 'INLINE', set: true });
  expect(inline.stderr).toMatch(/^fn: warning: a value on the command line lands in the shell history/);
  expect(inline.stderr).not.toContain('abc');

  const list = await remote.fn(['secret', 'list', 'alpha', '--json']);
  expect(JSON.parse(list.stdout)).toEqual(['INLINE', 'TOKEN']);
  const unset = await remote.fn(['secret', 'unset', 'alpha', 'INLINE', '--json']);
  expect(JSON.parse(unset.stdout)).toEqual({ name: 'alpha', key: 'INLINE', existed: true });
});

it('on a terminal, secret set asks for the value without echoing it', async () => {
  await deploy('alpha');
  const typed = 'typed-at-the-terminal';
  const helper = join(root, 'cli/src/test-support/pty-run.py');
  const env = { ...process.env, FN_URL: remote.server.url, FN_API_KEY: remote.h.acmeKey, HOME: remote.home, XDG_CONFIG_HOME: join(remote.home, 'config') };
  const child = spawn('python3', [helper, '(not shown): ', typed, process.execPath, 'cli/bin/fn.js', 'secret', 'set', 'alpha', 'TOKEN'], { cwd: root, env });
  let shown = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (shown += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(shown).toMatch(/^value of TOKEN for alpha \(not shown\): \r?\n/);
  expect(shown).toContain('set secret TOKEN on alpha');
  expect(shown).not.toContain(typed);
  expect(code).toBe(0);
  await remote.fn(['invoke', 'alpha']);
  expect(remote.h.invoker.calls.at(-1)!.env).toMatchObject({ TOKEN: typed });
});
