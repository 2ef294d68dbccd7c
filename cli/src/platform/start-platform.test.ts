// The one-machine platform end to end over real HTTP: deploy through the API, invoke, isolation
// per invocation, and everything still there after a restart on the same data directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../../vmm/src/test-support/backends.js';
import { ApiClient } from '../api-client.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});
const quiet = () => {};
const COUNTER = `let n = 0; export default { fetch(req) { n += 1; return new Response(String(n)); } };`;

describeEachBackend(
  'fn on one machine',
  (backend) => {
    it('deploys, invokes over HTTP with a fresh state per invocation, and survives a restart', { timeout: 120_000 }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-platform-'));
      const first = await startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: quiet });
      running.push(first);
      expect(first.newAdminKey).toMatch(/^fn_/);
      const admin = new ApiClient({ baseUrl: first.url, apiKey: first.newAdminKey, tenant: 'acme' });
      await admin.createTenant('acme');
      const v1 = await admin.deploy({ name: 'counter', bundle: COUNTER, config: { memoryMiB: 32, timeoutMs: 5000, public: true } });
      expect(v1.version).toBe(1);

      const bodies: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${first.url}/fn/acme/counter`);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-fn-invocation-id')).toBeTruthy();
        expect(['true', 'false']).toContain(res.headers.get('x-fn-cold-start'));
        bodies.push(await res.text());
      }
      expect(bodies).toEqual(['1', '1', '1', '1', '1']);
      await running.pop()!.close();

      const second = await startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: quiet });
      running.push(second);
      expect(second.newAdminKey).toBeUndefined(); // the key is shown once, at the first start only
      const res = await fetch(`${second.url}/fn/acme/counter`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-fn-cold-start')).toBe('true'); // no warm VM survives a restart…
      expect(await res.text()).toBe('1'); // …but the function and its snapshot do
      const again = new ApiClient({ baseUrl: second.url, apiKey: first.newAdminKey, tenant: 'acme' });
      expect((await again.describe('counter')).name).toBe('counter');
    });
  },
  SNAPSHOT_BACKENDS,
);
