// Several gateways sharing one registry over NATS, as a user starts them: a real nats-server, then
// `fn up --role scheduler`, one worker and two (later three) `fn up --role gateway` processes, each
// gateway with its own empty data directory and the same --secret-key-file. What is deployed,
// set or revoked through one gateway holds on the others; racing writes on two gateways both
// land; the registry survives a restart of nats-server, and a new gateway rebuilds it from the stream.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../api-client.js';
import { FnUpProcesses, type FnUpProcess } from '../test-support/fn-up-processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fnBin = join(root, 'cli/bin/fn.js');
const dir = mkdtempSync(join(tmpdir(), 'fn-gateways-'));
const keyFile = join(dir, 'secrets.key');
const processes = new FnUpProcesses();
let nats: TestNatsServer;
let natsPort: number;

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  natsPort = await freePort();
  nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: natsPort });
});
afterAll(async () => {
  await processes.stopAll();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Running = FnUpProcess;

const fnUp = (args: string[], ready: RegExp): Promise<Running> => processes.start(args, ready, ['FN_SECRET_KEY_FILE']);

async function gateway(name: string, extra: string[] = [], ready = /fn is up at/): Promise<{ url: string; output: () => string }> {
  const g = await fnUp(
    ['--role', 'gateway', '--nats', nats.url, '--port', '0', '--data', mkdtempSync(join(dir, `${name}-`)), '--secret-key-file', keyFile, ...extra],
    ready,
  );
  return { url: /fn is up at (http:\/\/\S+)/.exec(g.output())![1]!, output: g.output };
}

/** Polls `probe` until it returns true; the time it took, in ms. */
async function until(probe: () => Promise<boolean>, what: string): Promise<number> {
  const start = performance.now();
  while (!(await probe().catch(() => false))) {
    if (performance.now() - start > scaledTimeout(20_000)) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}

const ENV_ECHO = `export default { fetch(req, env) { return Response.json(env); } };`;
const ENV_ECHO_2 = `export default { fetch(req, env) { return Response.json({ v: 2, ...env }); } };`;

it('two gateways share one registry: deploy on A, invoke on B; changes on B hold on A; no lost update; survives a nats-server restart', {
  timeout: scaledTimeout(180_000),
}, async () => {
  await fnUp(['--role', 'scheduler', '--nats', nats.url], /fn scheduler is up/);
  await fnUp(
    ['--role', 'worker', '--nats', nats.url, '--data', mkdtempSync(join(dir, 'w1-')), '--backend', 'ptrace', '--worker-id', 'w1'],
    /fn worker w1 is up/,
  );
  const a = await gateway('a', [], /try it:/);
  const adminKey = /admin API key \(shown once, keep it\): (\S+)/.exec(a.output())![1]!;
  const b = await gateway('b');
  expect(b.output()).not.toMatch(/admin API key/); // the shared registry has its admin key already

  const onA = new ApiClient({ baseUrl: a.url, apiKey: adminKey, tenant: 'default' });
  const onB = new ApiClient({ baseUrl: b.url, apiKey: adminKey, tenant: 'default' });
  const call = (url: string, key = adminKey) =>
    fetch(`${url}/fn/default/echo-env`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const lags: Record<string, number> = {};

  // Deployed through A (hello too, by A's first start): B serves both.
  await onA.deploy({ name: 'echo-env', bundle: ENV_ECHO, config: { memoryMiB: 64, env: { MODE: 'blue' } } });
  lags.deploy = await until(async () => (await onB.versions('echo-env')).length === 1, 'B to list the deploy made through A');
  expect(JSON.parse((await call(b.url)).body)).toEqual({ MODE: 'blue' });
  expect((await fetch(`${b.url}/fn/default/hello`)).status).toBe(200);

  // A secret set on B reaches A's next invocation once replicated (A had it cached without it).
  await onB.setSecret('echo-env', 'TOKEN', 'from-b');
  lags.secret = await until(async () => JSON.parse((await call(a.url)).body).TOKEN === 'from-b', 'A to see the secret set on B');
  expect(JSON.parse((await call(a.url)).body)).toEqual({ MODE: 'blue', TOKEN: 'from-b' });

  // A key made on A and revoked on B stops working on A.
  const tenantKey = await onA.createKey('default', 'ci');
  expect((await call(a.url, tenantKey.secret)).status).toBe(200);
  await onB.revokeKey(tenantKey.id);
  lags.revoke = await until(async () => (await call(a.url, tenantKey.secret)).status === 401, 'A to refuse the key revoked on B');

  // An env change on A racing a redeploy (no env given: keep the live env) on B: both land.
  const [envChange, redeploy] = await Promise.all([
    onA.setEnv('echo-env', 'COLOR', 'green'),
    onB.deploy({ name: 'echo-env', bundle: ENV_ECHO_2, config: { memoryMiB: 64 } }),
  ]);
  expect(envChange.version.version).not.toBe(redeploy.version);
  await until(async () => {
    const [fromA, fromB] = [JSON.parse((await call(a.url)).body), JSON.parse((await call(b.url)).body)];
    return fromA.v === 2 && fromA.COLOR === 'green' && fromB.v === 2 && fromB.COLOR === 'green';
  }, 'both gateways to serve the redeploy with the env set meanwhile');
  expect(JSON.parse((await call(b.url)).body)).toEqual({ v: 2, MODE: 'blue', COLOR: 'green', TOKEN: 'from-b' });

  // nats-server restarts on its file store: the registry is intact and writable again.
  await nats.stop();
  // Meanwhile a registry write cannot be logged: 503, and nothing changes.
  const down = await onB.setEnv('echo-env', 'DOWN', '1').catch((e: unknown) => e);
  expect(down).toMatchObject({ status: 503 });
  expect((down as Error).message).toMatch(/registry stream .* try again once it is reachable/);
  nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: natsPort });
  await until(async () => {
    await onB.setEnv('echo-env', 'AFTER', 'restart');
    return true;
  }, 'a registry write to succeed after the restart');
  await until(async () => JSON.parse((await call(a.url)).body).AFTER === 'restart', 'A to see the write made on B after the restart');

  // A new gateway with an empty data directory rebuilds the registry from the stream.
  const c = await gateway('c');
  expect(JSON.parse((await call(c.url)).body)).toEqual({ v: 2, MODE: 'blue', COLOR: 'green', TOKEN: 'from-b', AFTER: 'restart' }); // no DOWN
  expect((await call(c.url, tenantKey.secret)).status).toBe(401);

  // A gateway without the shared secrets key refuses to start, saying what to do.
  const noKey = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [fnBin, 'up', '--role', 'gateway', '--nats', nats.url, '--port', '0', '--data', mkdtempSync(join(dir, 'nokey-'))],
      { cwd: root, env: { ...process.env, FN_SECRET_KEY_FILE: '' } },
      (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
  expect(noKey.code).toBe(1);
  expect(noKey.stderr).toMatch(/seals secrets with a key this gateway does not have: copy secrets\.key .* --secret-key-file/);

  // Replication lag A → B as a gateway's client sees it (polling every 5 ms), for the report.
  console.log(`replication lag seen through HTTP (ms): ${JSON.stringify(Object.fromEntries(Object.entries(lags).map(([k, v]) => [k, Math.round(v)])))}`);
});
