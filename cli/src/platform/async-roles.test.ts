// Asynchronous invocations across processes, as a user starts them: a real nats-server, then
// `fn up --role scheduler`, `fn up --role gateway` and two `fn up --role worker` (ptrace backend).
// 200 async invocations of a function whose answer depends on its input while one worker is
// killed with SIGKILL mid-stream. Every one ends `succeeded` with its own answer (none
// lost, none answered for another), and a record, once final, does not change (no duplicate
// delivery overwrites it). Then invocations accepted by a gateway that runs none
// (--async-runners 0) stay queued through a SIGKILL and restart of nats-server on its file store,
// and run once a gateway with runners comes up.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsBus, WorkerCapacity, type CapacityReport } from '@fn/scheduler';
import { freePort, startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../api-client.js';
import { FnUpProcesses, type FnUpProcess } from '../test-support/fn-up-processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const processes = new FnUpProcesses();
let nats: TestNatsServer;
// Our own store and port: the test restarts nats-server on them.
const natsStore = mkdtempSync(join(tmpdir(), 'fn-async-nats-'));
let natsPort: number;

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
  natsPort = await freePort();
  nats = await startNatsServer({ storeDir: natsStore, port: natsPort });
});
afterAll(async () => {
  await processes.stopAll();
  await nats?.stop();
  rmSync(natsStore, { recursive: true, force: true });
});

type Role = FnUpProcess;

const fnUp = (args: string[], ready: RegExp): Promise<Role> => processes.start(args, ready);

async function stop(role: Role): Promise<void> {
  const exited = new Promise((done) => role.child.once('exit', done));
  role.child.kill('SIGTERM');
  await exited;
}

async function until(condition: () => boolean, what: string, boundMs = scaledTimeout(60_000)): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > boundMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Its answer depends on its input, so an answer given for another invocation would show.
const DOUBLER = `export default { async fetch(request) {
  const n = Number(await request.text());
  await new Promise((r) => setTimeout(r, 250)); // long enough that a killed worker has some in flight
  return new Response(String(n * 2));
} };`;

interface Record {
  id: string;
  status: string;
  attempts: number;
  result?: { status: number; body?: string };
  finishedAt?: number;
}

describeEachBackend(
  'asynchronous invocations over NATS: gateway, scheduler and two workers',
  (backend) => {
    it('200 async invocations while a worker is killed with SIGKILL all succeed, each with its own answer; queued ones survive a nats-server restart', {
      timeout: scaledTimeout(300_000),
    }, async () => {
      const natsArgs = ['--nats', nats.url];
      const scheduler = await fnUp(['--role', 'scheduler', ...natsArgs], /fn scheduler is up/);
      const workers: { [id: string]: Role } = {};
      for (const id of ['w1', 'w2'])
        workers[id] = await fnUp(
          ['--role', 'worker', ...natsArgs, '--data', mkdtempSync(join(tmpdir(), `fn-async-${id}-`)), '--backend', backend, '--worker-id', id],
          new RegExp(`fn worker ${id} is up`),
        );
      const gateway = await fnUp(['--role', 'gateway', ...natsArgs, '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'fn-async-gw-'))], /try it:/);
      let url = /fn is up at (http:\/\/\S+)/.exec(gateway.output())![1]!;
      const key = /admin API key \(shown once, keep it\): (\S+)/.exec(gateway.output())![1]!;
      const watch = await NatsBus.connect(nats.url);
      const latest = new Map<string, CapacityReport>();
      await watch.subscribe(WorkerCapacity, (r) => void latest.set(r.workerId, r));
      try {
        await until(() => latest.has('w1') && latest.has('w2'), 'both workers to report');
        const api = new ApiClient({ baseUrl: url, apiKey: key, tenant: 'default' });
        await api.deploy({ name: 'doubler', bundle: DOUBLER, config: { memoryMiB: 32, timeoutMs: 10_000 } });
        const auth = { authorization: `Bearer ${key}` };

        const submit = async (n: number): Promise<string> => {
          const res = await fetch(`${url}/fn/default/doubler`, { method: 'POST', body: String(n), headers: { ...auth, 'x-fn-invocation-type': 'async' } });
          expect(res.status).toBe(202);
          return ((await res.json()) as { id: string }).id;
        };
        const read = async (id: string): Promise<Record> => {
          const res = await fetch(`${url}/v1/invocations/${id}`, { headers: auth });
          expect(res.status).toBe(200);
          return (await res.json()) as Record;
        };
        /** Polls until every id is final; returns the final records by id. */
        const settle = async (ids: string[]): Promise<Map<string, Record>> => {
          const final = new Map<string, Record>();
          const start = Date.now();
          while (final.size < ids.length) {
            const pending = ids.filter((id) => !final.has(id));
            for (let i = 0; i < pending.length; i += 20)
              for (const r of await Promise.all(pending.slice(i, i + 20).map(read))) if (r.status !== 'queued' && r.status !== 'running') final.set(r.id, r);
            if (Date.now() - start > scaledTimeout(120_000)) throw new Error(`${ids.length - final.size} invocations still not final after 120 s`);
            await new Promise((r) => setTimeout(r, 200));
          }
          return final;
        };
        const check = (inputs: number[], ids: string[], final: Map<string, Record>) => {
          ids.forEach((id, i) => expect(final.get(id)).toMatchObject({ status: 'succeeded', result: { status: 200, body: String(inputs[i]! * 2) } }));
        };

        // Warm pools on both workers first, so the two batches below compare like with like.
        const warm = await Promise.all(
          Array.from({ length: 16 }, (_, i) => fetch(`${url}/fn/default/doubler`, { method: 'POST', body: String(i), headers: auth }).then((r) => r.text())),
        );
        expect(warm).toEqual(Array.from({ length: 16 }, (_, i) => String(i * 2)));

        // With w1 killed mid-stream: once it has run a share of this batch and is busy.
        const stormy = Array.from({ length: 200 }, (_, i) => 1000 + i);
        const started = Date.now();
        const stormyIds: string[] = [];
        for (let i = 0; i < stormy.length; i += 50) stormyIds.push(...(await Promise.all(stormy.slice(i, i + 50).map(submit))));
        const busyOnW1 = () => (latest.get('w1')?.pools ?? []).reduce((n, p) => n + p.busy, 0);
        // A report sent after this batch began (an older one may predate it) that shows w1 busy.
        await until(() => (latest.get('w1')?.at ?? 0) > started && busyOnW1() > 0, 'w1 to be running an invocation of this batch');
        workers.w1!.child.kill('SIGKILL');
        const stormyFinal = await settle(stormyIds);
        const stormyMs = Date.now() - started;
        check(stormy, stormyIds, stormyFinal);
        const retried = [...stormyFinal.values()].filter((r) => r.attempts > 1).length;
        // The kill hit invocations in flight on w1: they failed there and succeeded on a retry.
        expect(retried, scheduler.output()).toBeGreaterThan(0);

        // Final means final: read again later, every record is exactly as it was.
        await new Promise((r) => setTimeout(r, 2_000));
        for (const id of stormyIds) expect(await read(id)).toEqual(stormyFinal.get(id));
        // A figure for the record, not an assertion (a shared machine times anything).
        process.stderr.write(`async-roles: 200 async invocations with a worker killed: ${stormyMs} ms (${retried} retried)\n`);

        // A gateway that accepts but runs none: 30 invocations stay queued…
        await stop(gateway);
        const gatewayData = /data in (\S+)\)/.exec(gateway.output())![1]!;
        const acceptOnly = await fnUp(['--role', 'gateway', ...natsArgs, '--port', '0', '--data', gatewayData, '--async-runners', '0'], /fn is up at/);
        url = /fn is up at (http:\/\/\S+)/.exec(acceptOnly.output())![1]!;
        const pendingInputs = Array.from({ length: 30 }, (_, i) => 5000 + i);
        const pendingIds = await Promise.all(pendingInputs.map(submit));
        for (const id of pendingIds) expect(await read(id)).toMatchObject({ status: 'queued', attempts: 0 });
        // …through a SIGKILL of nats-server and its restart on the same file store…
        await nats.stop();
        nats = await startNatsServer({ storeDir: natsStore, port: natsPort });
        const restarted = Date.now();
        await until(() => (latest.get('w2')?.at ?? 0) > restarted, 'w2 to report again after the restart');
        // Every role reconnects by itself (every 2 s): once a synchronous call goes through, the chain is back.
        for (let start = Date.now(); ; await new Promise((r) => setTimeout(r, 200))) {
          const res = await fetch(`${url}/fn/default/doubler`, { method: 'POST', body: '21', headers: auth }).catch(() => undefined);
          if (res?.status === 200 && (await res.text()) === '42') break;
          if (Date.now() - start > scaledTimeout(30_000)) throw new Error('the roles did not reconnect to nats-server within 30 s');
        }
        for (const id of pendingIds) expect(await read(id)).toMatchObject({ status: 'queued', attempts: 0 });
        // …and run once a gateway with runners is up.
        await stop(acceptOnly);
        const runnerGateway = await fnUp(['--role', 'gateway', ...natsArgs, '--port', '0', '--data', gatewayData], /fn is up at/);
        url = /fn is up at (http:\/\/\S+)/.exec(runnerGateway.output())![1]!;
        check(pendingInputs, pendingIds, await settle(pendingIds));
      } finally {
        await watch.close();
      }
    });
  },
  // ptrace only, as roles.test.ts: the role split is backend-independent, and heartbeats in the
  // nested KVM machine would make the worker-loss timing meaningless.
  ['ptrace'],
);
