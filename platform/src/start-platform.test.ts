// The one-machine platform end to end over real HTTP: deploy through the API, invoke, isolation
// per invocation, and everything still there after a restart on the same data directory.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../../cli/src/api-client.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});
const quiet = () => {};
const COUNTER = `let n = 0; export default { fetch(req) { n += 1; return new Response(String(n)); } };`;
const ENV_ECHO = `export default { fetch(req, env) { return Response.json(env); } };`;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

describeEachBackend(
  'fn on one machine',
  (backend) => {
    it('deploys, invokes over HTTP with a fresh state per invocation, and survives a restart', { timeout: scaledTimeout(120_000) }, async () => {
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

    it('hands env and secrets to each invocation, never to the snapshot', { timeout: scaledTimeout(120_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-platform-env-'));
      const p = await startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: quiet });
      running.push(p);
      const api = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await api.createTenant('acme');
      const SECRET = 'sk_live_platform_0123456789abcdef';
      await api.deploy({ name: 'env', bundle: ENV_ECHO, config: { memoryMiB: 32, timeoutMs: 5000, public: true } });
      await api.setEnv('env', 'COLOR', 'blue');
      await api.setSecret('env', 'TOKEN', SECRET);
      const got = await (await fetch(`${p.url}/fn/acme/env`)).json();
      expect(got).toEqual({ COLOR: 'blue', TOKEN: SECRET });
      await api.setEnv('env', 'COLOR', 'green');
      expect(((await (await fetch(`${p.url}/fn/acme/env`)).json()) as Record<string, string>).COLOR).toBe('green');
      // The gateway caches the version and the decrypted secrets: a change still shows at once.
      await api.setSecret('env', 'TOKEN', 'rotated');
      expect(((await (await fetch(`${p.url}/fn/acme/env`)).json()) as Record<string, string>).TOKEN).toBe('rotated');
      // No snapshot file holds the secret.
      for (const file of listFiles(join(dataDir, 'snapshots'))) expect(readFileSync(file).includes(SECRET), file).toBe(false);
    });

    it('a revoked key is refused on the very next invocation, though keys are cached', { timeout: scaledTimeout(120_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-platform-revoke-'));
      const p = await startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: quiet });
      running.push(p);
      const admin = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await admin.createTenant('acme');
      await admin.deploy({ name: 'private', bundle: COUNTER, config: { memoryMiB: 32, timeoutMs: 5000 } });
      const key = await admin.createKey('acme');
      const call = () => fetch(`${p.url}/fn/acme/private`, { headers: { authorization: `Bearer ${key.secret}` } });
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(200);
      await admin.revokeKey(key.id);
      expect((await call()).status).toBe(401);
    });
  },
  SNAPSHOT_BACKENDS,
);
