// Several gateways' registries sharing one JetStream change log on a real nats-server: changes on
// one copy reach the others, concurrent writes on two copies both survive, secrets need the same
// key everywhere, and the log outlives a restart of nats-server (a fresh copy rebuilds from it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';
import { ADMIN } from '../caller.js';
import { Registry } from '../registry.js';
import { SharedRegistry, SharedRegistryError } from './shared-registry.js';

const root = mkdtempSync(join(tmpdir(), 'fn-shared-registry-'));
const keyFile = join(root, 'secrets.key');
writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
const CONFIG = { entry: 'index.js', memoryMiB: 64, timeoutMs: 1000, maxConcurrency: 4, public: false };
const digest = (c: string) => `sha256:${c.repeat(64)}`;

let server: TestNatsServer;
let port: number;
const connections: NatsConnection[] = [];
const opened: SharedRegistry[] = [];

beforeAll(async () => {
  port = await freePort();
  server = await startNatsServer({ storeDir: join(root, 'nats'), port });
});
afterAll(async () => {
  for (const r of opened) r.close();
  await Promise.all(connections.map((nc) => nc.close().catch(() => {})));
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function gateway(name: string, options: { secretKeyFile?: string; prefix?: string } = {}): Promise<SharedRegistry> {
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  connections.push(nc);
  const registry = await SharedRegistry.open(mkdtempSync(join(root, `${name}-`)), nc, {
    secretKeyFile: options.secretKeyFile ?? keyFile,
    subjectPrefix: options.prefix ?? 'fn.test',
  });
  opened.push(registry);
  return registry;
}

/** Waits until `copy` has applied everything `writer` has. */
async function replicated(copy: SharedRegistry, writer: SharedRegistry): Promise<number> {
  const start = performance.now();
  while (copy.appliedSeq < writer.appliedSeq) {
    if (performance.now() - start > 10_000) throw new Error(`copy stuck at ${copy.appliedSeq}, writer at ${writer.appliedSeq}`);
    await new Promise((r) => setTimeout(r, 1));
  }
  return performance.now() - start;
}

describe('a registry shared by gateways over JetStream', () => {
  let a: SharedRegistry;
  let b: SharedRegistry;
  let tenantKey: string;

  it('a change on one gateway takes effect on the other: deploy, secret, env, revoked key', async () => {
    a = await gateway('a');
    b = await gateway('b');
    const admin = await a.keys.ensureAdminKey();
    expect(admin?.secret).toMatch(/^fn_/);
    await replicated(b, a);
    const seq = b.appliedSeq;
    expect(await b.keys.ensureAdminKey()).toBeNull(); // once per shared registry, not per gateway
    expect(b.appliedSeq).toBe(seq); // and a later start logs nothing
    await a.tenants.create({ keyId: 'k', tenantId: null } as never, 'acme'); // an Authenticated, as the gateway passes it
    tenantKey = (await a.keys.create(ADMIN, 'acme', 'ci')).secret;
    const v1 = await a.functions.createVersion({
      tenant: 'acme',
      name: 'api',
      bundleDigest: digest('a'),
      snapshotDigest: digest('b'),
      config: CONFIG,
      env: {},
    });
    await a.env.setSecret('acme', 'api', 'TOKEN', 'first');

    await replicated(b, a);
    const caller = b.keys.authenticate(tenantKey);
    expect(caller).toEqual({ keyId: expect.any(String), tenantId: 'acme' });
    const onB = b.functions.resolveForInvocation(caller, 'acme', 'api');
    expect(onB).toMatchObject({ version: v1.version, snapshotDigest: digest('b') });
    expect(b.env.envForInvocation('acme', 'api', onB)).toEqual({ TOKEN: 'first' });

    // Changed on B (its caches on A were filled above): A's next read sees it once replicated.
    expect(a.env.envForInvocation('acme', 'api', a.functions.resolveForInvocation(caller, 'acme', 'api'))).toEqual({ TOKEN: 'first' });
    await b.env.setSecret('acme', 'api', 'TOKEN', 'rotated');
    await b.env.setEnv('acme', 'api', { MODE: 'blue' });
    expect(b.env.envForInvocation('acme', 'api', b.functions.resolveForInvocation(caller, 'acme', 'api'))).toEqual({ MODE: 'blue', TOKEN: 'rotated' }); // read-your-writes
    await replicated(a, b);
    expect(a.env.envForInvocation('acme', 'api', a.functions.resolveForInvocation(caller, 'acme', 'api'))).toEqual({ MODE: 'blue', TOKEN: 'rotated' });

    expect(a.keys.authenticate(tenantKey)).not.toBeNull();
    await b.keys.revoke(ADMIN, caller!.keyId);
    await replicated(a, b);
    expect(a.keys.authenticate(tenantKey)).toBeNull();

    // Delete on A, deploy the name again on B: the version counter outlives the delete on every
    // copy, and the deleted function's secrets are gone everywhere.
    const tmp = { tenant: 'acme', name: 'tmp', bundleDigest: digest('1'), snapshotDigest: digest('2'), config: CONFIG, env: {} };
    await a.functions.createVersion(tmp);
    await a.env.setSecret('acme', 'tmp', 'OLD', 'gone');
    await a.functions.delete('acme', 'tmp');
    await replicated(b, a);
    expect((await b.functions.createVersion(tmp)).version).toBe(2);
    await replicated(a, b);
    expect(a.functions.describe('acme', 'tmp')).toEqual(b.functions.describe('acme', 'tmp'));
    expect(a.env.secretNames('acme', 'tmp')).toEqual([]);

    // The registry's own refusals answer on the writer, and nothing reaches the log.
    const before = a.appliedSeq;
    await expect(a.env.setEnv('acme', 'api', { TOKEN: 'x' })).rejects.toMatchObject({ name: 'ConflictError' });
    await expect(a.functions.delete('acme', 'nope')).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(a.appliedSeq).toBe(before);
  });

  it('concurrent writes on two gateways are serialised: no update is lost', async () => {
    // A redeploy that keeps the live env, racing env changes on the other gateway.
    const writes = [
      ...Array.from({ length: 6 }, (_, i) => a.env.setEnv('acme', 'api', { [`A${i}`]: String(i) })),
      ...Array.from({ length: 6 }, (_, i) => b.env.setEnv('acme', 'api', { [`B${i}`]: String(i) })),
      b.functions.createVersion({ tenant: 'acme', name: 'api', bundleDigest: digest('c'), snapshotDigest: digest('d'), config: CONFIG, keepLiveEnv: true }),
      a.functions.createVersion({ tenant: 'acme', name: 'api', bundleDigest: digest('e'), snapshotDigest: digest('f'), config: CONFIG, keepLiveEnv: true }),
    ];
    const versions = (await Promise.all(writes)).map((w) =>
      'version' in w && typeof w.version === 'object' ? w.version.version : (w as { version: number }).version,
    );
    expect(new Set(versions).size).toBe(versions.length); // every write its own version number
    await replicated(a, b);
    await replicated(b, a);
    const liveA = a.functions.resolve('acme', 'api');
    const liveB = b.functions.resolve('acme', 'api');
    expect(liveB).toEqual(liveA);
    const expected = {
      MODE: 'blue',
      ...Object.fromEntries(
        Array.from({ length: 6 }, (_, i) => [
          [`A${i}`, String(i)],
          [`B${i}`, String(i)],
        ]).flat(),
      ),
    };
    expect(liveA.env).toEqual(expected);
    expect(a.functions.versions('acme', 'api')).toEqual(b.functions.versions('acme', 'api'));
  });

  it('every gateway needs the same secrets key: another key, or none, refuses to start', async () => {
    const otherKey = join(root, 'other.key');
    writeFileSync(otherKey, randomBytes(32), { mode: 0o600 });
    await expect(gateway('wrong-key', { secretKeyFile: otherKey })).rejects.toThrow(/is not the key the shared registry seals secrets with/);
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    await expect(SharedRegistry.open(mkdtempSync(join(root, 'no-key-')), nc, { subjectPrefix: 'fn.test' })).rejects.toThrow(
      /seals secrets with a key this gateway does not have: copy secrets.key .* --secret-key-file/,
    );
    // A one-process data directory has a registry of its own: not merged into the shared one.
    const own = mkdtempSync(join(root, 'own-'));
    const local = Registry.open(own, { secretKeyFile: keyFile });
    local.tenants.create(ADMIN, 'mine');
    local.close();
    await expect(SharedRegistry.open(own, nc, { subjectPrefix: 'fn.test', secretKeyFile: keyFile })).rejects.toBeInstanceOf(SharedRegistryError);
  });

  it('survives a restart of nats-server; a new gateway with an empty data directory rebuilds from the stream', async () => {
    await server.stop();
    // Registry reads are local: invocations keep being authorised while NATS is down; writes fail with 503's kind.
    expect(a.functions.resolve('acme', 'api').version).toBeGreaterThan(1);
    await expect(a.env.setEnv('acme', 'api', { DOWN: '1' })).rejects.toMatchObject({ kind: 'unavailable' });
    server = await startNatsServer({ storeDir: join(root, 'nats'), port });

    // The writer reconnects; the other copy's follower resumes where it was.
    for (const start = Date.now(); ; ) {
      const done = await Promise.resolve()
        .then(() => a.env.setEnv('acme', 'api', { AFTER: 'restart' }))
        .then(
          () => true,
          () => false,
        );
      if (done) break;
      if (Date.now() - start > 20_000) throw new Error('writes did not come back within 20 s of the restart');
      await new Promise((r) => setTimeout(r, 200));
    }
    await replicated(b, a);
    expect(b.functions.resolve('acme', 'api').env).toMatchObject({ AFTER: 'restart', MODE: 'blue' });
    expect(b.functions.resolve('acme', 'api').env).not.toHaveProperty('DOWN');

    const fresh = await gateway('fresh');
    expect(fresh.appliedSeq).toBe(a.appliedSeq);
    expect(fresh.functions.describe('acme', 'api')).toEqual(a.functions.describe('acme', 'api'));
    expect(fresh.keys.list(ADMIN)).toEqual(a.keys.list(ADMIN));
    const live = fresh.functions.resolve('acme', 'api');
    expect(fresh.env.envForInvocation('acme', 'api', live)).toMatchObject({ TOKEN: 'rotated', AFTER: 'restart' });
  });
});
