// The whole product as a user meets it: the platform on a random port, two tenants deploying with
// the real `fn` CLI, invocations over real HTTP into real VMs (ptrace here, KVM where present):
// tenant rules, rollback, env and secrets, the 413/429/504/500 paths, and a restart.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../api-client.js';
import { startPlatform, type RunningPlatform } from '@fn/platform';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});
beforeAll(() => {
  // The fn binary runs cli/dist.
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
});

function fn(args: string[], env: { url: string; key: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'cli/bin/fn.js'), ...args],
      { cwd: root, env: { ...process.env, FN_URL: env.url, FN_API_KEY: env.key, XDG_CONFIG_HOME: tmpdir() } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A function folder written for the test. */
function functionDir(name: string, source: string, config: Record<string, unknown> = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fn-e2e-fn-')), name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'fn.json'), JSON.stringify({ name, entry: 'index.js', memoryMiB: 32, timeoutMs: 5000, ...config }));
  writeFileSync(join(dir, 'index.js'), source);
  return dir;
}

const quiet = () => {};

describeEachBackend(
  'end to end',
  (backend) => {
    it('two tenants, the CLI, HTTP, rollback, env and secrets, limits, and a restart', { timeout: scaledTimeout(240_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-e2e-'));
      const start = () => startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: quiet, scheduler: { maxQueueLength: 1 } });
      const platform = await start();
      running.push(platform);
      const url = platform.url;
      const admin = new ApiClient({ baseUrl: url, apiKey: platform.newAdminKey });
      await admin.createTenant('alpha');
      await admin.createTenant('beta');
      const a = { url, key: (await admin.createKey('alpha')).secret };
      const b = { url, key: (await admin.createKey('beta')).secret };

      // Each tenant deploys with the CLI.
      expect((await fn(['deploy', 'functions/echo'], a)).code).toBe(0);
      expect((await fn(['deploy', 'functions/hello'], b)).code).toBe(0);
      const inv = await fn(['invoke', 'echo', '-d', '{"a":1}'], a);
      expect(inv.code, inv.stderr).toBe(0);
      expect(JSON.parse(inv.stdout).body).toEqual({ a: 1 });

      // Tenant rules: A's private echo is A's alone; B's public hello is anyone's.
      const auth = (k: string) => ({ authorization: `Bearer ${k}` });
      expect((await fetch(`${url}/fn/alpha/echo`, { headers: auth(a.key) })).status).toBe(200);
      expect((await fetch(`${url}/fn/alpha/echo`)).status).toBe(401);
      expect((await fetch(`${url}/fn/alpha/echo`, { headers: auth(b.key) })).status).toBe(404);
      expect(await (await fetch(`${url}/fn/beta/hello`)).text()).toBe('Hello from fn!\n');
      expect((await fn(['describe', 'echo'], b)).code).toBe(1);
      // B's "echo" is beta/echo, which never ran: none of alpha's records show.
      expect((await fn(['logs', 'echo'], b)).stdout).not.toMatch(/ v1 /);
      expect((await fn(['rm', 'echo'], b)).code).toBe(1);
      expect((await fetch(`${url}/fn/alpha/echo`, { headers: auth(a.key) })).status).toBe(200); // still there

      // Rollback: v2 answers, then live moves back to v1.
      const versioned = (n: number) => functionDir('ver', `export default { fetch() { return new Response('v${n}'); } };`, { public: true });
      await fn(['deploy', versioned(1)], a);
      await fn(['deploy', versioned(2)], a);
      expect(await (await fetch(`${url}/fn/alpha/ver`)).text()).toBe('v2');
      expect((await fn(['rollback', 'ver'], a)).code).toBe(0);
      expect(await (await fetch(`${url}/fn/alpha/ver`)).text()).toBe('v1');

      // Env and secrets reach the next invocation.
      await fn(['deploy', functionDir('cfg', 'export default { fetch(r, env) { return Response.json(env); } };', { public: true })], a);
      await fn(['env', 'set', 'cfg', 'MODE=prod'], a);
      await fn(['secret', 'set', 'cfg', 'TOKEN=t0ps3cret'], a);
      expect(await (await fetch(`${url}/fn/alpha/cfg`)).json()).toEqual({ MODE: 'prod', TOKEN: 't0ps3cret' });
      expect((await fn(['describe', 'cfg'], a)).stdout).not.toContain('t0ps3cret');

      // 413, 504, 500.
      expect((await fetch(`${url}/fn/alpha/echo`, { method: 'POST', headers: auth(a.key), body: new Uint8Array(6 * 1024 * 1024 + 1) })).status).toBe(413);
      await fn(['deploy', functionDir('spin', 'export default { fetch() { for (;;) {} } };', { public: true, timeoutMs: 300 })], a);
      expect((await fetch(`${url}/fn/alpha/spin`)).status).toBe(504);
      await fn(['deploy', functionDir('boom', "export default { fetch() { throw new Error('kaboom'); } };", { public: true })], a);
      const boom = await fetch(`${url}/fn/alpha/boom`);
      expect(boom.status).toBe(500);
      expect(JSON.stringify(await boom.json())).toContain('error');

      // 429: one running, one queued (the queue holds one), the rest refused with Retry-After.
      const api = new ApiClient({ baseUrl: url, apiKey: a.key });
      await api.deploy({
        name: 'slow',
        bundle: 'export default { async fetch() { await new Promise((r) => setTimeout(r, 400)); return new Response("done"); } };',
        config: { memoryMiB: 32, timeoutMs: 5000, public: true, maxConcurrency: 1 },
      });
      expect(await (await fetch(`${url}/fn/alpha/slow`)).text()).toBe('done'); // warm it up
      const answers = await Promise.all(Array.from({ length: 4 }, () => fetch(`${url}/fn/alpha/slow`)));
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses).toContain(429);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
      expect(Number(answers.find((r) => r.status === 429)!.headers.get('retry-after'))).toBeGreaterThan(0);

      // Restart: every function, version, alias, key and log is still there; no redeploy needed.
      await running.pop()!.close();
      const again = await start();
      running.push(again);
      const a2 = { url: again.url, key: a.key };
      const echo = await fn(['invoke', 'echo', '-d', '"after restart"'], a2);
      expect(echo.code, echo.stderr).toBe(0);
      expect(JSON.parse(echo.stdout).body).toBe('after restart');
      expect(await (await fetch(`${again.url}/fn/alpha/ver`)).text()).toBe('v1');
      expect(await (await fetch(`${again.url}/fn/beta/hello`)).text()).toBe('Hello from fn!\n');
      const logs = await fn(['logs', 'echo'], a2);
      expect(logs.stdout.split('\n').filter((l) => / v1 /.test(l)).length).toBeGreaterThanOrEqual(3);
    });
  },
  SNAPSHOT_BACKENDS,
);
