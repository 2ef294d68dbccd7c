// /metrics and /readyz of a platform spread over processes, as a user starts it: a real
// nats-server, `fn up --role gateway|scheduler` and two `fn up --role worker`. The gateway shows
// each worker's series under its own `worker` label (carried in the workers' capacity reports);
// /readyz is 503 until a worker with a base snapshot is up, and again once every worker is gone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parsePrometheusText, sumOf, hasSeries, type Sample } from '../../../gateway/src/test-support/prometheus-text.js';
import { startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../api-client.js';
import { FnUpProcesses, type FnUpProcess } from '../test-support/fn-up-processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const processes = new FnUpProcesses();
const TOKEN = 'metrics-token-roles-0123456789abcdef';
let nats: TestNatsServer;

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
  nats = await startNatsServer();
});
afterAll(async () => {
  await processes.stopAll();
  await nats?.stop();
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, boundMs = scaledTimeout(60_000)): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - start > boundMs) throw new Error(`gave up waiting for ${what}: last saw ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const SLEEPER = `export default { async fetch(request) {
  const ms = Number(new URL(request.url).searchParams.get('ms') ?? '400');
  await new Promise((r) => setTimeout(r, ms));
  return new Response('slept');
} };`;

describeEachBackend(
  'metrics and readiness over NATS: a gateway, a scheduler and two workers',
  (backend) => {
    it('shows each worker under its own label, and is ready only while a worker with a base snapshot is up', {
      timeout: scaledTimeout(240_000),
    }, async () => {
      const natsArgs = ['--nats', nats.url];
      const gateway = await processes.start(
        ['--role', 'gateway', ...natsArgs, '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'fn-metrics-gw-')), '--metrics-token', TOKEN],
        /once a worker is up/,
      );
      const out = gateway.output();
      const url = /fn is up at (http:\/\/\S+)/.exec(out)![1]!;
      const key = /admin API key \(shown once, keep it\): (\S+)/.exec(out)![1]!;
      // The banner says where the probes and the metrics are.
      expect(out).toContain(`health:  ${url}/healthz`);
      expect(out).toContain(`${url}/readyz`);
      expect(out).toContain(`metrics: ${url}/metrics`);

      const readyz = async () => {
        const res = await fetch(`${url}/readyz`);
        return { status: res.status, body: (await res.json()) as { notReady?: string[]; checks: Record<string, string> } };
      };
      const scrape = async (): Promise<Sample[]> => {
        const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(res.status).toBe(200);
        return parsePrometheusText(await res.text());
      };

      // No worker yet: alive, not ready, and /readyz says why.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const alone = await readyz();
      expect(alone.status).toBe(503);
      expect(alone.body.notReady).toEqual(['workers']);
      expect(alone.body.checks.workers).toMatch(/no worker has reported .* start one/);
      expect(alone.body.checks.snapshots).toBe('ok'); // the JetStream object store answers
      expect((await fetch(`${url}/metrics`)).status).toBe(401);

      await processes.start(['--role', 'scheduler', ...natsArgs], /fn scheduler is up/);
      const workers: Record<string, FnUpProcess> = {};
      for (const id of ['w1', 'w2']) {
        workers[id] = await processes.start(
          ['--role', 'worker', ...natsArgs, '--data', mkdtempSync(join(tmpdir(), `fn-metrics-${id}-`)), '--backend', backend, '--worker-id', id],
          new RegExp(`fn worker ${id} is up`),
        );
      }
      // Each worker makes its base snapshot at start: then the gateway is ready.
      await until(readyz, (r) => r.status === 200, '/readyz to answer 200');
      const both = await until(
        scrape,
        // Both report (a worker's base may still be booting when the first one made /readyz 200).
        (s) => ['w1', 'w2'].every((worker) => sumOf(s, 'fn_vm_creates_total', { worker, purpose: 'base' }) > 0),
        'series of both workers, each with its base made',
      );
      for (const worker of ['w1', 'w2']) expect(sumOf(both, 'fn_vm_creates_total', { worker, purpose: 'base' })).toBe(1);

      // Invocations run on the workers; restores are counted on whichever ran them, and the
      // gateway's own counters agree with the cold starts the responses reported.
      const api = new ApiClient({ baseUrl: url, apiKey: key, tenant: 'default' });
      await api.deploy({ name: 'sleeper', bundle: SLEEPER, config: { memoryMiB: 32, timeoutMs: 5000, maxConcurrency: 10, public: true } });
      const responses = await Promise.all(Array.from({ length: 4 }, () => fetch(`${url}/fn/default/sleeper`)));
      for (const r of responses) expect(r.status).toBe(200);
      const cold = responses.filter((r) => r.headers.get('x-fn-cold-start') === 'true').length;
      expect(cold).toBeGreaterThan(0);
      const after = await until(scrape, (s) => sumOf(s, 'fn_vm_resets_total') >= 4, 'the workers to report the resets of four invocations');
      expect(sumOf(after, 'fn_invocations_total', { tenant: 'default', function: 'sleeper', status: 'ok' })).toBe(4);
      expect(sumOf(after, 'fn_invocations_total', { tenant: 'default', function: 'sleeper', start: 'cold' })).toBe(cold);
      expect(sumOf(after, 'fn_vm_restores_total', { reason: 'cold' })).toBe(cold);
      expect(sumOf(after, 'fn_vm_resets_total', { worker: 'w1' }) + sumOf(after, 'fn_vm_resets_total', { worker: 'w2' })).toBe(4);

      // One at a time: a second invocation waits in the scheduler's queue, which the scheduler
      // (another process) reports to the gateway.
      await api.deploy({ name: 'one', bundle: SLEEPER, config: { memoryMiB: 32, timeoutMs: 10_000, maxConcurrency: 1, public: true } });
      const pair = [fetch(`${url}/fn/default/one?ms=4000`), fetch(`${url}/fn/default/one?ms=4000`)];
      await until(scrape, (s) => sumOf(s, 'fn_scheduler_queue_depth') === 1, 'the queued invocation to show');
      for (const r of await Promise.all(pair)) expect(r.status).toBe(200);
      await until(scrape, (s) => sumOf(s, 'fn_scheduler_queue_depth') === 0, 'the queue to empty');

      // A worker killed: its series go once its reports stop; the other keeps the gateway ready.
      workers.w2!.child.kill('SIGKILL');
      const oneLeft = await until(scrape, (s) => !hasSeries(s, 'fn_worker_vms_max', { worker: 'w2' }), 'the series of w2 to go');
      expect(hasSeries(oneLeft, 'fn_worker_vms_max', { worker: 'w1' })).toBe(true);
      expect((await readyz()).status).toBe(200);

      workers.w1!.child.kill('SIGKILL');
      const none = await until(readyz, (r) => r.status === 503, '/readyz to answer 503 with no worker left');
      expect(none.body.notReady).toEqual(['workers']);
    });
  },
  // ptrace only, as roles.test.ts: the role split is backend-independent, and in the nested KVM
  // machine the 1 s reports, and so the worker-loss checks, would be meaningless.
  ['ptrace'],
);
