/**
 * Several OS processes writing into one store at once: the case atomic rename must cover (worker
 * processes on one machine share a data directory). The children run the store's real code,
 * bundled from these TypeScript sources with esbuild.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, type Digest } from './digest.js';
import { SnapshotStore } from './store.js';
import { guestImage, tempDir } from './test-support/fixtures.js';

const run = promisify(execFile);
const WRITERS = 4;
let dir: string;
let cleanup: () => Promise<void>;
let child: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  child = join(dir, 'put-child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./test-support/put-child.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: child,
    logLevel: 'silent',
  });
});
afterAll(() => cleanup());

describe('store shared by several processes', () => {
  it('ends with every blob whole and every snapshot loadable, whoever won each rename', async () => {
    const storeDir = join(dir, 'store');
    const outputs = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) =>
        run(process.execPath, [child, storeDir, String(i)]).then((r) => JSON.parse(r.stdout) as { shared: Digest[]; own: Digest; base: Digest; fn: Digest }),
      ),
    );
    const store = new SnapshotStore(storeDir);
    const expectedShared = [1, 2, 3].map((n) => sha256(guestImage('shared', [n, n + 9])));
    for (const [i, out] of outputs.entries()) {
      expect(out.shared).toEqual(expectedShared);
      expect(out.own).toBe(sha256(guestImage(`own-${i}`, [5])));
      expect(out.base).toBe(outputs[0]!.base);
      await store.verifyBlob(out.own);
      const loaded = await store.loadSnapshot(out.fn, { verifyMemory: 'full' });
      expect(loaded.state.function?.name).toBe(`fn-${i}`);
    }
    for (const d of expectedShared) await store.verifyBlob(d);
    expect((await store.listRefs()).map((r) => r.name)).toEqual(['base', ...outputs.map((_, i) => `fn-${i}`)]);
    const files = await readdir(storeDir, { recursive: true });
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
