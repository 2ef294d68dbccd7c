// Snapshot disk comes back: a deploy/rm cycle through the real platform (HTTP, registry, deployer,
// snapshot store on disk) leaves the store as it was, and the grace period keeps young garbage.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../../cli/src/api-client.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});
const quiet = () => {};
const fnBin = fileURLToPath(new URL('../../cli/bin/fn.js', import.meta.url));
const config = { memoryMiB: 32, timeoutMs: 5000, public: true };
const bundle = (word: string) => `const big = new Array(20000).fill('${word}').join(); export default { fetch() { return new Response(big.slice(0, 5)); } };`;

describeEachBackend(
  'snapshot garbage collection',
  (backend) => {
    it("fn rm returns the disk of the function's snapshots; other functions keep working", { timeout: scaledTimeout(120_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-gc-'));
      const p = await startPlatform({ dataDir, port: 0, backend: backend as 'ptrace' | 'kvm', hosts: 1, logger: quiet, snapshotGraceMs: 0 });
      running.push(p);
      await p.collectSnapshots(); // the one at start, so it cannot race the deploys below
      const api = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await api.createTenant('acme');
      await api.deploy({ name: 'stays', bundle: bundle('stays'), config }); // makes the base too
      const before = (await api.status()).snapshots!;

      const gone = await api.deploy({ name: 'gone', bundle: bundle('gone!'), config });
      expect(await (await fetch(`${p.url}/fn/acme/gone`)).text()).toBe('gone!');
      const withGone = (await api.status()).snapshots!;
      expect(withGone.blobs).toBe(before.blobs + 3); // its state file, memory diff and bundle
      expect(withGone.bytes).toBeGreaterThan(before.bytes);
      const laidOut = join(dataDir, 'work', gone.snapshotDigest.replace('sha256:', ''));
      expect(existsSync(laidOut)).toBe(true);

      await api.deleteFunction('gone');
      const report = await p.collectSnapshots(); // runs after the one fn rm started
      expect((await api.status()).snapshots).toEqual(before);
      // What `fn status` prints, from the real CLI (asynchronously: this process serves its request).
      const cli = await promisify(execFile)(process.execPath, [fnBin, 'status'], {
        encoding: 'utf8',
        env: { ...process.env, FN_URL: p.url, FN_API_KEY: p.newAdminKey! },
      });
      expect(cli.stdout).toBe(`snapshots: ${(before.bytes / (1024 * 1024)).toFixed(1)} MiB on disk in ${before.blobs} blobs\n`);
      expect(report.deferred).toBe(0);
      expect(existsSync(laidOut)).toBe(false);
      expect(await (await fetch(`${p.url}/fn/acme/stays`)).text()).toBe('stays');
    });

    it('keeps the garbage of a deleted function for the grace period, and collects it at the next start', { timeout: scaledTimeout(120_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-gc-grace-'));
      const first = await startPlatform({ dataDir, port: 0, backend: backend as 'ptrace' | 'kvm', hosts: 1, logger: quiet });
      running.push(first);
      const api = new ApiClient({ baseUrl: first.url, apiKey: first.newAdminKey, tenant: 'acme' });
      await api.createTenant('acme');
      await api.deploy({ name: 'stays', bundle: bundle('stays'), config });
      const before = (await api.status()).snapshots!;
      await api.deploy({ name: 'gone', bundle: bundle('gone!'), config });
      await api.deleteFunction('gone');
      const report = await first.collectSnapshots();
      expect(report.removed).toEqual([]); // an hour's grace: a deploy in flight looks just like this
      expect(report.deferred).toBe(3);
      expect((await api.status()).snapshots!.blobs).toBe(before.blobs + 3);
      await running.pop()!.close();

      const second = await startPlatform({ dataDir, port: 0, backend: backend as 'ptrace' | 'kvm', hosts: 1, logger: quiet, snapshotGraceMs: 0 });
      running.push(second);
      await second.collectSnapshots();
      const again = new ApiClient({ baseUrl: second.url, apiKey: first.newAdminKey, tenant: 'acme' });
      expect((await again.status()).snapshots).toEqual(before);
      expect(await (await fetch(`${second.url}/fn/acme/stays`)).text()).toBe('stays');
    });

    it('answers 403 to a tenant key asking for the platform status', { timeout: scaledTimeout(60_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-gc-status-'));
      const p = await startPlatform({ dataDir, port: 0, backend: backend as 'ptrace' | 'kvm', hosts: 1, logger: quiet });
      running.push(p);
      const admin = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey });
      await admin.createTenant('acme');
      const key = await admin.createKey('acme');
      await expect(new ApiClient({ baseUrl: p.url, apiKey: key.secret }).status()).rejects.toThrow(/admin key/);
    });
  },
  ['ptrace'],
);
