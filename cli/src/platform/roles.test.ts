// fn spread over processes, as a user starts it: a real nats-server, then `fn up --role scheduler`,
// `fn up --role gateway` and two `fn up --role worker` processes, each with its own data directory
// (snapshots travel through JetStream's object store). A
// deploy and invocations over HTTP reach both workers; kill -9 of one worker ends its in-flight
// invocations with a clear 503 (not a hang until their timeout), and the other worker goes on.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, WorkerCapacity, type CapacityReport } from '@fn/scheduler';
import { startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../api-client.js';
import { FnUpProcesses, type FnUpProcess } from '../test-support/fn-up-processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fnBin = join(root, 'cli/bin/fn.js');
const processes = new FnUpProcesses();
let nats: TestNatsServer;
let alone: TestNatsServer | undefined;

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
  nats = await startNatsServer();
});
afterAll(async () => {
  await processes.stopAll();
  await Promise.all([nats?.stop(), alone?.stop()]);
});

type Role = FnUpProcess;

const fnUp = (args: string[], ready: RegExp): Promise<Role> => processes.start(args, ready);

/** The latest capacity report of each worker, heard on NATS like a scheduler hears them. */
async function watchCapacity(): Promise<{ latest: Map<string, CapacityReport>; close(): Promise<void> }> {
  const bus = await NatsBus.connect(nats.url);
  const latest = new Map<string, CapacityReport>();
  await bus.subscribe(WorkerCapacity, (r) => void latest.set(r.workerId, r));
  return { latest, close: () => bus.close() };
}

async function until(condition: () => boolean, what: string, boundMs = scaledTimeout(30_000)): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > boundMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const SLEEPER = `export default { async fetch(request) {
  const ms = Number(new URL(request.url).searchParams.get('ms') ?? '0');
  await new Promise((r) => setTimeout(r, ms));
  return new Response('slept ' + ms);
} };`;

function fnUpExits(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fnBin, 'up', ...args], { cwd: root, env: { ...process.env, FN_NATS: '' } }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('fn up --role: wrong arguments', () => {
  it('a role without --nats, an unknown role, --nats without a role: one line saying what to do, exit code 2', async () => {
    const noNats = await fnUpExits(['--role', 'worker']);
    expect(noNats).toMatchObject({ code: 2, stderr: 'fn: --role worker needs --nats nats://host:4222 (or FN_NATS)\n' });
    const unknown = await fnUpExits(['--role', 'router', '--nats', nats.url]);
    expect(unknown).toMatchObject({ code: 2, stderr: 'fn: --role must be gateway, scheduler or worker, not "router"\n' });
    const noRole = await fnUpExits(['--nats', nats.url]);
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toMatch(/--nats needs --role gateway\|scheduler\|worker/);
  });

  it('a gateway with no worker up: starts, says hello is not deployed yet, and a deploy answers 503 saying to start a worker', async () => {
    // Its own NATS: gateways on one NATS share one registry, and the test below starts a first one.
    alone = await startNatsServer();
    const gateway = await fnUp(
      ['--role', 'gateway', '--nats', alone.url, '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'fn-roles-alone-'))],
      /once a worker is up/,
    );
    expect(gateway.output()).toMatch(/fn: functions\/hello is not deployed: no worker is up to build the snapshot of this deploy — start a worker/);
    const url = /fn is up at (http:\/\/\S+)/.exec(gateway.output())![1]!;
    const key = /admin API key \(shown once, keep it\): (\S+)/.exec(gateway.output())![1]!;
    const api = new ApiClient({ baseUrl: url, apiKey: key, tenant: 'default' });
    const err = await api.deploy({ name: 'late', bundle: 'export default { fetch() { return new Response("x") } }' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503 });
    expect((err as Error).message).toMatch(/no worker is up .* start a worker/);
    gateway.child.kill('SIGTERM');
    await new Promise((done) => gateway.child.once('exit', done));
  });

  it('NATS not reachable: one line naming the URL and what to do, exit code 1', async () => {
    const r = await fnUpExits(['--role', 'scheduler', '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not connect to NATS at nats:\/\/127\.0\.0\.1:1 .*start nats-server/);
  });
});

const MIRROR = `export default { async fetch(request) {
  const bytes = new Uint8Array(await request.arrayBuffer());
  bytes.reverse();
  return new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } });
} };`;

describeEachBackend(
  'fn up --role: gateway, scheduler and two workers over a real NATS',
  (backend) => {
    it('deploys and serves sync invocations on both workers; kill -9 of a worker ends its in-flight invocations with a 503', {
      timeout: scaledTimeout(240_000),
    }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-roles-'));
      const natsArgs = ['--nats', nats.url];
      const scheduler = await fnUp(['--role', 'scheduler', ...natsArgs], /fn scheduler is up/);
      const workers: Record<string, Role> = {};
      for (const id of ['w1', 'w2']) {
        // Each worker has its own data directory: snapshots reach it through the JetStream object store.
        const workerData = mkdtempSync(join(tmpdir(), `fn-roles-${id}-`));
        workers[id] = await fnUp(
          ['--role', 'worker', ...natsArgs, '--data', workerData, '--backend', backend, '--worker-id', id],
          new RegExp(`fn worker ${id} is up`),
        );
      }
      // The gateway runs no VMs: its first start's deploy of hello is built by a worker.
      const gateway = await fnUp(['--role', 'gateway', ...natsArgs, '--port', '0', '--data', dataDir], /try it:/);
      const url = /fn is up at (http:\/\/\S+)/.exec(gateway.output())![1]!;
      const key = /admin API key \(shown once, keep it\): (\S+)/.exec(gateway.output())![1]!;
      const capacity = await watchCapacity();
      try {
        await until(() => capacity.latest.has('w1') && capacity.latest.has('w2'), 'both workers to report');

        // The first start deployed hello through the gateway; a worker serves it.
        const hello = await fetch(`${url}/fn/default/hello`);
        expect(hello.status).toBe(200);
        expect(await hello.text()).toContain('Hello');

        const api = new ApiClient({ baseUrl: url, apiKey: key, tenant: 'default' });
        const version = await api.deploy({ name: 'sleeper', bundle: SLEEPER, config: { memoryMiB: 64, timeoutMs: 60_000 } });
        // A bundle that throws at load, built on a worker: the caller's 400, with the worker's reason.
        const broken = await api.deploy({ name: 'broken', bundle: 'throw new TypeError("bad init"); export default {};' }).catch((e: unknown) => e);
        expect(broken).toMatchObject({ status: 400 });
        expect((broken as Error).message).toMatch(/failed to load: TypeError: bad init/);
        const call = (ms: number) =>
          fetch(`${url}/fn/default/sleeper?ms=${ms}`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => ({
            status: r.status,
            text: await r.text(),
            retryAfter: r.headers.get('retry-after'),
          }));

        // Concurrent invocations spread over both workers (the least loaded gets the next one).
        const replies = await Promise.all(Array.from({ length: 6 }, () => call(300)));
        expect(replies.map((r) => [r.status, r.text])).toEqual(Array.from({ length: 6 }, () => [200, 'slept 300']));
        await until(
          () => ['w1', 'w2'].every((id) => (capacity.latest.get(id)?.pools ?? []).some((p) => p.key === version.snapshotDigest && p.idle + p.busy > 0)),
          'both workers to hold a VM of sleeper',
        );

        // 5 MB each way: over NATS's 1 MiB max_payload on both hops, so chunked, as raw bytes.
        await api.deploy({ name: 'mirror', bundle: MIRROR, config: { memoryMiB: 128, timeoutMs: 30_000 } });
        const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 13 + (i >> 12)) % 256);
        const mirrored = await fetch(`${url}/fn/default/mirror`, { method: 'POST', body: big, headers: { authorization: `Bearer ${key}` } });
        expect(mirrored.status).toBe(200);
        expect(Buffer.from(await mirrored.arrayBuffer()).equals(Buffer.from(big.slice().reverse()))).toBe(true);

        // Four long invocations in flight, two on each worker; then w1 dies without a word.
        const inFlight = Array.from({ length: 4 }, () => call(8_000));
        const busy = (id: string) => (capacity.latest.get(id)?.pools ?? []).reduce((n, p) => n + p.busy, 0);
        await until(() => busy('w1') >= 1 && busy('w2') >= 1 && busy('w1') + busy('w2') === 4, 'all four running, on both workers');
        const busyOnW1 = busy('w1');
        workers.w1!.child.kill('SIGKILL');
        const ended = await Promise.all(inFlight);
        const lost = ended.filter((r) => r.status === 503);
        const done = ended.filter((r) => r.status === 200);
        expect(lost).toHaveLength(busyOnW1);
        expect(done).toHaveLength(4 - busyOnW1);
        for (const r of lost) {
          expect(JSON.parse(r.text)).toMatchObject({ error: { type: 'unavailable' } });
          expect(r.retryAfter).toBe('1');
        }
        // The client is told "retry later"; the scheduler's log tells the operator what happened.
        const lostLines = scheduler
          .output()
          .split('\n')
          .filter((l) => l.includes('worker lost'));
        expect(lostLines).toHaveLength(busyOnW1);
        for (const l of lostLines) expect(JSON.parse(l)).toMatchObject({ level: 'warn', workerId: 'w1', function: 'sleeper' });
        for (const r of done) expect(r.text).toBe('slept 8000');

        // w2 serves what comes next.
        expect(await call(0)).toMatchObject({ status: 200, text: 'slept 0' });
      } finally {
        await capacity.close();
      }
    });
  },
  // ptrace only: the role split is backend-independent (fn up's own tests cover the VM layer on
  // KVM), and in the nested KVM machine five processes 10-50x slower on one vCPU would make the
  // 1 s heartbeats, and so the worker-loss assertions, meaningless.
  ['ptrace'],
);
