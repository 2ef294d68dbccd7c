// Every failure kind of an invocation driven through the real chain — HTTP → gateway → scheduler →
// worker → VMM host → VM (ptrace here, KVM where present) — by functions that really fail that
// way, and answered by the gateway's status table. No fake stands in anywhere on the path.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from '../../cli/src/api-client.js';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const FUNCTIONS: Record<string, { source: string; config?: Record<string, unknown> }> = {
  boom: { source: "export default { fetch() { throw new RangeError('kaboom'); } };" },
  spin: { source: 'export default { fetch() { for (;;) {} } };', config: { timeoutMs: 300 } },
  hog: {
    source: 'export default { fetch() { const hoard = []; for (;;) hoard.push(new Array(1024 * 1024).fill(hoard.length)); } };',
    config: { memoryMiB: 32 },
  },
  // Nesting deep enough to run the runtime's C stack into its guard: the VM faults and is discarded.
  crash: {
    source: 'export default { fetch() { let v = []; for (let i = 0; i < 20000; i++) v = [v]; return new Response(JSON.stringify(v)); } };',
    config: { memoryMiB: 32 },
  },
  bighdr: {
    source: `export default { fetch(req) {
      if (new URL(req.url).pathname === '/small') return new Response('fine');
      return new Response('x', { headers: { 'x-big': 'a'.repeat(17 * 1024) } });
    } };`,
  },
  slow: {
    source: 'export default { async fetch() { await new Promise((r) => setTimeout(r, 1500)); return new Response("done"); } };',
    config: { maxConcurrency: 1 },
  },
};

describeEachBackend(
  'failure kinds through the real chain',
  (backend) => {
    let p: RunningPlatform;
    let url: string;
    beforeAll(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-kinds-'));
      // VMM host processes, as on KVM: a host can then die under an invocation (unavailable).
      p = await startPlatform({
        dataDir,
        port: 0,
        backend: backend as 'kvm' | 'ptrace',
        hosts: 1,
        vmHosts: 'processes',
        logger: () => {},
        scheduler: { maxQueueLength: 0 },
      });
      url = p.url;
      const api = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await api.createTenant('acme');
      for (const [name, f] of Object.entries(FUNCTIONS)) {
        await api.deploy({ name, bundle: f.source, config: { memoryMiB: 64, timeoutMs: 5000, public: true, ...f.config } });
      }
    }, scaledTimeout(300_000));
    afterAll(async () => {
      await p?.close();
    });

    const invoke = async (name: string, path = '') => {
      const res = await fetch(`${url}/fn/acme/${name}${path}`);
      const body = await res.text();
      const error = res.headers.get('content-type')?.startsWith('application/json')
        ? (JSON.parse(body) as { error?: { type: string; message: string } }).error
        : undefined;
      return { status: res.status, error, body, headers: res.headers };
    };

    it('function_error: the handler threw → 500 function_error (its message only to its owner)', async () => {
      const r = await invoke('boom');
      expect(r.status).toBe(500);
      expect(r.error).toMatchObject({ type: 'function_error' });
      expect(r.headers.get('x-fn-invocation-id')).toBeTruthy();
    });

    it('timeout: past its timeoutMs → 504 timeout', { timeout: scaledTimeout(60_000) }, async () => {
      const r = await invoke('spin');
      expect(r.status).toBe(504);
      expect(r.error).toMatchObject({ type: 'timeout', message: expect.stringMatching(/timeoutMs 300/) });
    });

    it("out_of_memory → 500 naming the function's fault, not 503", async () => {
      const r = await invoke('hog');
      expect(r.status).toBe(500);
      expect(r.error).toMatchObject({ type: 'out_of_memory', message: expect.stringMatching(/ran out of its memory.*the function's fault/) });
    });

    it("crashed: its VM faulted → 500 naming the function's fault, not 503", async () => {
      const r = await invoke('crash');
      expect(r.status).toBe(500);
      expect(r.error).toMatchObject({ type: 'function_crashed', message: expect.stringMatching(/the function's fault/) });
    });

    it('bad_response: a 17 KiB header → 502 bad_response naming the limit; the VM is kept', async () => {
      const r = await invoke('bighdr');
      expect(r.status).toBe(502);
      expect(r.error).toMatchObject({ type: 'bad_response', message: expect.stringMatching(/x-big.*17408 bytes.*16384/) });
      const next = await invoke('bighdr', '/small');
      expect(next.status).toBe(200);
      expect(next.headers.get('x-fn-cold-start')).toBe('false');
    });

    it('too_large: a body over 6 MiB or 257 headers → 413 payload_too_large', async () => {
      const body = await fetch(`${url}/fn/acme/boom`, { method: 'POST', body: new Uint8Array(6 * 1024 * 1024 + 1) });
      expect(body.status).toBe(413);
      const headers = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`x-h${i}`, '1']));
      const many = await fetch(`${url}/fn/acme/boom`, { headers });
      expect(many.status).toBe(413);
      expect(((await many.json()) as { error: { type: string } }).error.type).toBe('payload_too_large');
    });

    it('overloaded: over its maxConcurrency with no queue → 429 with Retry-After', { timeout: scaledTimeout(60_000) }, async () => {
      const [a, b] = await Promise.all([invoke('slow'), invoke('slow')]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([200, 429]);
      const refused = a.status === 429 ? a : b;
      expect(refused.error).toMatchObject({ type: 'overloaded' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('unavailable: the VMM host holding the VM dies mid-invocation → 503; the next invocation works', { timeout: scaledTimeout(60_000) }, async () => {
      const running = invoke('slow');
      await new Promise((r) => setTimeout(r, 300));
      const host = p.worker.metrics().hosts.find((h) => h.alive && h.inFlight > 0);
      expect(host).toBeDefined();
      process.kill(host!.pid, 'SIGKILL');
      const r = await running;
      expect(r.status).toBe(503);
      expect(r.error).toMatchObject({ type: 'unavailable' });
      // The host is replaced; the platform serves on.
      await expect.poll(async () => (await invoke('bighdr', '/small')).status, { timeout: scaledTimeout(20_000), interval: 200 }).toBe(200);
    });

    it('serves on after every kind: each failure stayed with its invocation', async () => {
      expect((await invoke('bighdr', '/small')).body).toBe('fine');
    });
  },
  SNAPSHOT_BACKENDS,
);
