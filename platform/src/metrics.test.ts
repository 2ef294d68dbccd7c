// GET /metrics, /healthz and /readyz on the one-machine platform, through the real chain: real
// VMs, invocations over HTTP, the worker's series carried over the bus in its capacity reports.
// Every check compares a scrape before with one after, so it counts what this test did.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from '../../cli/src/api-client.js';
import { parsePrometheusText, sumOf, type Sample } from '../../gateway/src/test-support/prometheus-text.js';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const METRICS_TOKEN = 'metrics-token-for-the-test-0123456789';
const FUNCTIONS = {
  hello: { source: 'export default { fetch() { return new Response("hello"); } };', config: {} },
  throws: { source: 'export default { fetch() { throw new TypeError("on purpose"); } };', config: {} },
  spins: { source: 'export default { fetch() { for (;;) {} } };', config: { timeoutMs: 300 } },
  slow: {
    source: 'export default { async fetch() { await new Promise((r) => setTimeout(r, 1500)); return new Response("done"); } };',
    config: { maxConcurrency: 1 },
  },
};

describeEachBackend(
  'metrics and probes on one machine',
  (backend) => {
    let p: RunningPlatform;
    let tenantKey: string;

    const scrape = async (): Promise<Sample[]> => {
      const res = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      return parsePrometheusText(await res.text());
    };
    /** Scrapes until `done` holds: worker series arrive with the next capacity report (every second). */
    const scrapeUntil = async (done: (s: Sample[]) => boolean): Promise<Sample[]> => {
      for (let attempt = 0; ; attempt++) {
        const samples = await scrape();
        if (done(samples) || attempt >= 100) return samples;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const invoke = (name: string) => fetch(`${p.url}/fn/acme/${name}`);
    const readyz = async () => {
      const res = await fetch(`${p.url}/readyz`);
      return { status: res.status, body: (await res.json()) as { status: string; notReady?: string[]; checks: Record<string, string> } };
    };

    beforeAll(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-metrics-'));
      p = await startPlatform({
        dataDir,
        port: 0,
        backend: backend as 'kvm' | 'ptrace',
        hosts: 1,
        logger: () => {},
        metricsToken: METRICS_TOKEN,
        scheduler: { maxQueueLength: 0 },
      });
    }, scaledTimeout(120_000));
    afterAll(async () => {
      await p?.close();
    });

    it('is alive at once, and ready only once a worker has a base snapshot', { timeout: scaledTimeout(180_000) }, async () => {
      const alive = await fetch(`${p.url}/healthz`);
      expect(alive.status).toBe(200);

      // No deploy yet and no prepareBase: the worker is up but has no base snapshot.
      const before = await readyz();
      expect(before.status).toBe(503);
      expect(before.body.notReady).toEqual(['workers']);
      expect(before.body.checks.workers).toMatch(/none with a base snapshot/);
      expect(before.body.checks.registry).toBe('ok');
      expect(before.body.checks.snapshots).toBe('ok');

      // A deploy makes the base; every function of this file is deployed here, once.
      const admin = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await admin.createTenant('acme');
      tenantKey = (await admin.createKey('acme')).secret;
      for (const [name, f] of Object.entries(FUNCTIONS)) {
        await admin.deploy({ name, bundle: f.source, config: { memoryMiB: 32, timeoutMs: 5000, public: true, ...f.config } });
      }
      let after = await readyz();
      for (let attempt = 0; after.status !== 200 && attempt < 50; attempt++) {
        await new Promise((r) => setTimeout(r, 100)); // the worker says so in its next report
        after = await readyz();
      }
      expect(after).toEqual({ status: 200, body: { status: 'ready', checks: { registry: 'ok', snapshots: 'ok', workers: 'ok' } } });
      // Deploys built VMs: the base once, then one per function init.
      const samples = await scrapeUntil((s) => sumOf(s, 'fn_vm_creates_total', { purpose: 'deploy' }) >= 4);
      expect(sumOf(samples, 'fn_vm_creates_total', { worker: 'local', purpose: 'base' })).toBe(1);
      expect(sumOf(samples, 'fn_vm_creates_total', { worker: 'local', purpose: 'deploy' })).toBe(4);
      expect(sumOf(samples, 'fn_vm_create_duration_seconds_count', { worker: 'local', purpose: 'deploy' })).toBe(4);
    });

    it('asks for the admin key or the metrics token, and refuses tenant keys', async () => {
      const none = await fetch(`${p.url}/metrics`);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/admin key.*FN_METRICS_TOKEN/);
      const wrong = await fetch(`${p.url}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.status).toBe(401);
      const tenant = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${tenantKey}` } });
      expect(tenant.status).toBe(403);
      expect(((await tenant.json()) as { error: { message: string } }).error.message).toMatch(/spans every tenant/);
      const admin = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${p.newAdminKey}` } });
      expect(admin.status).toBe(200);
      expect(await admin.text()).toMatch(/^# HELP fn_/m);
      // The probes take no key and say nothing of tenants.
      expect(JSON.stringify((await readyz()).body)).not.toMatch(/acme/);
    });

    it('counts invocations cold and warm, their latency, restores, resets and pool sizes', { timeout: scaledTimeout(60_000) }, async () => {
      const before = await scrape();
      const starts: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await invoke('hello');
        expect(res.status).toBe(200);
        await res.text();
        starts.push(res.headers.get('x-fn-cold-start') === 'true' ? 'cold' : 'warm');
      }
      expect(starts[0]).toBe('cold'); // the first invocation of a version has no pool yet
      const cold = starts.filter((s) => s === 'cold').length;
      const warm = starts.length - cold;
      expect(warm).toBeGreaterThan(0);

      const delta = (after: Sample[], name: string, labels: Record<string, string>) => sumOf(after, name, labels) - sumOf(before, name, labels);
      const hello = { tenant: 'acme', function: 'hello' };
      // Every invocation's VM is reset after it answered, off the reply path: wait for the report.
      const after = await scrapeUntil((s) => delta(s, 'fn_vm_resets_total', { worker: 'local' }) >= 3);
      expect(delta(after, 'fn_invocations_total', { ...hello, status: 'ok', start: 'cold' })).toBe(cold);
      expect(delta(after, 'fn_invocations_total', { ...hello, status: 'ok', start: 'warm' })).toBe(warm);
      expect(delta(after, 'fn_invocation_duration_seconds_count', { ...hello, start: 'cold' })).toBe(cold);
      expect(delta(after, 'fn_invocation_duration_seconds_count', { ...hello, start: 'warm' })).toBe(warm);
      expect(delta(after, 'fn_invocation_duration_seconds_sum', { ...hello, start: 'cold' })).toBeGreaterThan(0);
      expect(delta(after, 'fn_vm_restores_total', { worker: 'local', reason: 'cold' })).toBe(cold);
      expect(delta(after, 'fn_vm_restore_duration_seconds_count', { worker: 'local', reason: 'cold' })).toBe(cold);
      expect(delta(after, 'fn_vm_resets_total', { worker: 'local' })).toBe(3);
      expect(delta(after, 'fn_vm_reset_duration_seconds_count', { worker: 'local' })).toBe(3);
      // The pool keeps the VM warm: idle now, nothing busy.
      expect(sumOf(after, 'fn_pool_vms', { worker: 'local', state: 'idle' })).toBeGreaterThanOrEqual(1);
      expect(sumOf(after, 'fn_pool_vms', { worker: 'local', state: 'busy' })).toBe(0);
      expect(sumOf(after, 'fn_worker_vms', { worker: 'local' })).toBeGreaterThanOrEqual(1);
      expect(after.some((s) => s.name === 'fn_scheduler_queue_depth')).toBe(true);
    });

    it('counts failures by kind: a handler that throws, one that times out, and 429s', { timeout: scaledTimeout(60_000) }, async () => {
      const before = await scrape();
      const delta = (after: Sample[], name: string, labels: Record<string, string>) => sumOf(after, name, labels) - sumOf(before, name, labels);

      expect((await invoke('throws')).status).toBe(500);
      expect((await invoke('spins')).status).toBe(504);
      const [a, b] = await Promise.all([invoke('slow'), invoke('slow')]);
      expect([a.status, b.status].sort()).toEqual([200, 429]);

      const after = await scrape();
      expect(delta(after, 'fn_invocation_errors_total', { kind: 'function_error' })).toBe(1);
      expect(delta(after, 'fn_invocation_errors_total', { kind: 'timeout' })).toBe(1);
      expect(delta(after, 'fn_invocation_errors_total', { kind: 'overloaded' })).toBe(1);
      expect(delta(after, 'fn_invocations_total', { tenant: 'acme', function: 'throws', status: 'function_error' })).toBe(1);
      expect(delta(after, 'fn_invocations_total', { tenant: 'acme', function: 'spins', status: 'timeout' })).toBe(1);
      expect(delta(after, 'fn_invocations_total', { tenant: 'acme', function: 'slow', status: 'ok' })).toBe(1);
      expect(delta(after, 'fn_invocations_total', { tenant: 'acme', function: 'slow', status: 'overloaded', start: 'none' })).toBe(1);
      expect(delta(after, 'fn_throttled_total', { tenant: 'acme', function: 'slow' })).toBe(1);
    });
  },
  SNAPSHOT_BACKENDS,
);
