// A failed deploy leaves no bytes, and the documented bundle limit is one the platform can load
// (issue 13, hole 3: failed deploys grew the data dir by their bundles; the documented 50 MiB did
// not load, the real limit was ~8 MiB). Real gateway, deployer, snapshot store and VMs.
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS } from '@fn/contract';
import { afterEach, expect, it } from 'vitest';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});
const quiet = () => {};
const HELLO = `export default { fetch() { return new Response('hello'); } };`;

/** Every file under the store and the restore layouts, with its size. */
function storeFiles(dataDir: string): string[] {
  return ['snapshots', 'work']
    .flatMap((sub) =>
      readdirSync(join(dataDir, sub), { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .map((e) => {
          const path = join(e.parentPath, e.name);
          return `${path.slice(dataDir.length)} ${statSync(path).size}`;
        }),
    )
    .sort();
}

/** A bundle of exactly `bytes` UTF-8 bytes that loads and answers (its bulk is one string). */
function bundleOfSize(bytes: number): string {
  const head = `const pad = "`;
  const tail = `"; export default { fetch() { return new Response(String(pad.length)); } };`;
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

describeEachBackend(
  'failed deploys',
  (backend) => {
    it('leave nothing in the store, and a bundle of exactly the limit deploys and runs', { timeout: scaledTimeout(180_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-failed-deploys-'));
      const p = await startPlatform({ dataDir, port: 0, backend: backend as 'kvm' | 'ptrace', hosts: 1, logger: quiet });
      running.push(p);
      const headers = { authorization: `Bearer ${p.newAdminKey}`, 'content-type': 'application/json' };
      expect((await fetch(`${p.url}/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ name: 'acme' }) })).status).toBe(201);
      const deploy = (bundle: string, memoryMiB = 32) =>
        fetch(`${p.url}/v1/functions?tenant=acme`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'fn', bundle, config: { memoryMiB, timeoutMs: 5000, public: true } }),
        });
      // The base snapshot of this memory size is made by the first deploy: platform state, not the deploy's.
      expect((await deploy(HELLO)).status).toBe(201);
      const before = storeFiles(dataDir);

      const failures: [string, string, number][] = [
        ['init throws', `throw new Error('init failed'); export default {};`, 32],
        ['init runs out of memory', `const hog = []; for (;;) hog.push(new Array(1 << 16).fill(hog.length)); export default {};`, 32],
        ['a syntax error', `export default { fetch( };`, 32],
        ['one byte over the bundle limit', bundleOfSize(LIMITS.bundleBytes + 1), 128],
      ];
      for (const [what, bundle, memoryMiB] of failures) {
        const res = await deploy(bundle, memoryMiB);
        expect(res.status, what).toBeGreaterThanOrEqual(400);
        expect(storeFiles(dataDir), what).toEqual(before);
      }
      expect(p.registry.functions.versions('acme', 'fn').map((v) => v.version)).toEqual([1]);

      const atLimit = bundleOfSize(LIMITS.bundleBytes);
      expect(Buffer.byteLength(atLimit)).toBe(LIMITS.bundleBytes);
      const ok = await deploy(atLimit, 128);
      expect(ok.status, await ok.clone().text()).toBe(201);
      const res = await fetch(`${p.url}/fn/acme/fn`);
      expect(res.status).toBe(200);
      expect(Number(await res.text())).toBeGreaterThan(LIMITS.bundleBytes - 200);
    });
  },
  SNAPSHOT_BACKENDS,
);
