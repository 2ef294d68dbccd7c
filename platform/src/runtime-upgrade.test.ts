// An upgrade of the runtime (guest ELF or VMM) between two starts on one data directory, through
// the platform's runtimeId setting: new deploys start from a base of the new build, and a version
// deployed before is rebuilt from its bundle on its first invocation instead of restoring the old
// build's memory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SnapshotStore } from '@fn/snapshots';
import { baseRef, rebuiltRef } from '../../worker/src/deployer.js';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../../cli/src/api-client.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});
const quiet = () => {};
const config = { memoryMiB: 32, timeoutMs: 5000, public: true };
const answering = (text: string) => `let n = 0; export default { fetch() { n += 1; return new Response('${text} ' + n); } };`;

describeEachBackend(
  'a runtime upgrade',
  (backend) => {
    it('new deploys use the new build; versions deployed before are rebuilt and keep answering', { timeout: scaledTimeout(120_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-upgrade-'));
      const start = (runtimeId: string) =>
        startPlatform({ dataDir, port: 0, backend: backend as 'ptrace' | 'kvm', hosts: 1, logger: quiet, runtimeId, snapshotGraceMs: 0 });
      const before = await start('build-a');
      running.push(before);
      const adminKey = before.newAdminKey;
      const api = new ApiClient({ baseUrl: before.url, apiKey: adminKey, tenant: 'acme' });
      await api.createTenant('acme');
      const v1 = await api.deploy({ name: 'f', bundle: answering('v1'), config });
      expect(await (await fetch(`${before.url}/fn/acme/f`)).text()).toBe('v1 1');
      await running.pop()!.close();

      const after = await start('build-b');
      running.push(after);
      const store = new SnapshotStore(join(dataDir, 'snapshots'));
      // The old version, restored by the new build: rebuilt from its bundle, then it answers.
      expect(await (await fetch(`${after.url}/fn/acme/f@1`)).text()).toBe('v1 1');
      const rebuilt = await store.getRef(rebuiltRef(v1.snapshotDigest as `sha256:${string}`, 'build-b'));
      expect((await store.loadSnapshot(rebuilt!)).state.runtimeId).toBe('build-b');
      // A new deploy starts from the new build's base.
      const again = new ApiClient({ baseUrl: after.url, apiKey: adminKey, tenant: 'acme' });
      const v2 = await again.deploy({ name: 'f', bundle: answering('v2'), config });
      expect(await (await fetch(`${after.url}/fn/acme/f`)).text()).toBe('v2 1');
      const v2State = (await store.loadSnapshot(v2.snapshotDigest as `sha256:${string}`)).state;
      expect(v2State.runtimeId).toBe('build-b');
      expect(v2State.base).toBe(await store.getRef(baseRef(backend as 'ptrace' | 'kvm', 'build-b', 32)));
      // The old build's base ref goes at the next collection; its versions keep what they need.
      await after.collectSnapshots();
      expect(await store.getRef(baseRef(backend as 'ptrace' | 'kvm', 'build-a', 32))).toBeUndefined();
      expect(await (await fetch(`${after.url}/fn/acme/f@1`)).text()).toBe('v1 1');
    });
  },
  ['ptrace'],
);
