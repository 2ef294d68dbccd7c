// A deployed TypeScript function that throws: its error stack and console.error(err) output name
// the user's file, line and column, in `fn logs` (the invocation record) and in the 500 body its
// owner gets, not the bundle's `fn:function:N`. The real chain: esbuild bundle + map (the CLI's
// bundler), deploy over HTTP, a snapshot-restored VM, the gateway's mapping, the log store.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../../cli/src/api-client.js';
import { bundleFunction } from '../../cli/src/bundle.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});

// Line numbers matter: the test looks for them. `fail` throws on line 6, the handler logs on line 12.
const HANDLER_TS = `interface Order { id: number }

function fail(order: Order): never {
  const note: string = 'order ' + order.id;
  void note;
  throw new Error('cannot ship ' + order.id);
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/logged') { try { fail({ id: 7 }); } catch (err) { console.error(err); } return new Response('logged'); }
    fail({ id: 42 });
  },
};
`;

describeEachBackend(
  'source-mapped stacks on the platform',
  (backend) => {
    it('shows the user file:line in fn logs and the owner’s 500 body', { timeout: scaledTimeout(120_000) }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fn-srcmap-fn-'));
      const entry = join(dir, 'handler.ts');
      writeFileSync(entry, HANDLER_TS);
      const bundle = await bundleFunction(entry);
      expect(bundle.sourceMap).toBeDefined();

      const dataDir = mkdtempSync(join(tmpdir(), 'fn-srcmap-'));
      const p = await startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: () => {} });
      running.push(p);
      const api = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await api.createTenant('acme');
      await api.deploy({ name: 'ship', bundle: bundle.code, sourceMap: bundle.sourceMap!, config: { memoryMiB: 32, timeoutMs: 5000 } });

      const thrown = await fetch(`${p.url}/fn/acme/ship`, { headers: { authorization: `Bearer ${p.newAdminKey}` } });
      expect(thrown.status).toBe(500);
      const body = (await thrown.json()) as { error: { type: string; stack?: string } };
      expect(body.error.type).toBe('function_error');
      expect(body.error.stack).toMatch(/handler\.ts:6:\d+/); // the throw, in fail()
      expect(body.error.stack).toMatch(/handler\.ts:13:\d+/); // its caller, the handler
      expect(body.error.stack).not.toContain('fn:function:');

      const logged = await fetch(`${p.url}/fn/acme/ship/logged`, { headers: { authorization: `Bearer ${p.newAdminKey}` } });
      expect(await logged.text()).toBe('logged');

      const { records } = await api.logs('ship');
      expect(records.map((r) => r.status)).toEqual(['error', 'ok']);
      const uncaught = records[0]!.logs.map((l) => l.message).join('\n');
      expect(uncaught).toContain('cannot ship 42');
      expect(uncaught).toMatch(/handler\.ts:6:\d+/);
      expect(uncaught).not.toContain('fn:function:');
      const consoleError = records[1]!.logs.find((l) => l.level === 'error')!.message;
      expect(consoleError).toContain('cannot ship 7');
      expect(consoleError).toMatch(/handler\.ts:6:\d+/);
      expect(consoleError).toMatch(/handler\.ts:12:\d+/);
      expect(consoleError).not.toContain('fn:function:');

      // A caller without the owner's key learns only that the function failed.
      await api.deploy({ name: 'open', bundle: bundle.code, sourceMap: bundle.sourceMap!, config: { memoryMiB: 32, timeoutMs: 5000, public: true } });
      const anonymous = (await (await fetch(`${p.url}/fn/acme/open`)).json()) as { error: { stack?: string } };
      expect(anonymous.error.stack).toBeUndefined();

      // The map goes with the last version of its bundle.
      const maps = join(dataDir, 'source-maps');
      expect(readdirSync(maps)).toHaveLength(1); // both functions deployed the same bundle
      await api.deleteFunction('ship');
      await p.collectSnapshots();
      expect(readdirSync(maps)).toHaveLength(1);
      await api.deleteFunction('open');
      await p.collectSnapshots();
      expect(existsSync(maps) && readdirSync(maps)).toEqual([]);
    });

    it('refuses a deploy whose source map cannot be read, before building it', { timeout: scaledTimeout(60_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-srcmap-bad-'));
      const p = await startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: () => {} });
      running.push(p);
      const api = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await api.createTenant('acme');
      const deploy = api.deploy({ name: 'x', bundle: 'export default { fetch() { return new Response("") } }', sourceMap: '{"version":3}', config: {} });
      await expect(deploy).rejects.toMatchObject({ status: 400, message: expect.stringContaining('sourceMap: not a source map') });
      await expect(api.describe('x')).rejects.toMatchObject({ status: 404 });
    });
  },
  // ptrace only: the mapping is the gateway's, the same whatever runs the VM, and under the nested
  // KVM machine this file takes ~150 s (it passed there once: [kvm] in scripts/with-kvm).
  ['ptrace'],
);
