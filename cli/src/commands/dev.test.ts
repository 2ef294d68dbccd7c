// `fn dev` as a user runs it: the real bin serves a folder made by `fn init`, answers HTTP with the
// function, rebundles when a file changes, keeps the last good version when an edit breaks it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { root } from '../test-support/remote.js';

const bin = join(root, 'cli/bin/fn.js');
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const undo of cleanup.splice(0)) undo();
});

/** Resolves with the accumulated text once `pattern` appears in it. */
function waitFor(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, seen: { text: string }): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = seen.text.match(pattern);
      if (m) {
        child[stream]!.off('data', check);
        child.off('close', closed);
        resolve(m);
      }
    };
    const closed = () => reject(new Error(`fn dev exited before ${pattern}: ${seen.text}`));
    child[stream]!.on('data', check);
    child.once('close', closed);
    check();
  });
}

describeEachBackend(
  'fn dev',
  (backend) => {
    it('serves the function, rebundles on change, and keeps the last good version when an edit breaks', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'fn-dev-'));
      cleanup.push(() => rmSync(cwd, { recursive: true, force: true }));
      expect(spawnSync(process.execPath, [bin, 'init', 'devfn'], { cwd, encoding: 'utf8' }).status).toBe(0);
      const child = spawn(process.execPath, [bin, 'dev', 'devfn', '--port', '0', '--backend', backend], { cwd });
      cleanup.push(() => child.kill('SIGKILL'));
      const out = { text: '' };
      const err = { text: '' };
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out.text += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err.text += d));

      const url = (await waitFor(child, 'stdout', /^(http:\/\/127\.0\.0\.1:\d+\/)\n/, out))[1]!;
      const first = await fetch(`${url}?name=one`);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ hello: 'one' });

      const entry = join(cwd, 'devfn', 'index.js');
      writeFileSync(entry, readFileSync(entry, 'utf8').replace('hello: name', 'howdy: name'));
      await waitFor(child, 'stderr', /index\.js changed: rebundled and reloaded\n/, err);
      expect(await (await fetch(`${url}?name=two`)).json()).toEqual({ howdy: 'two' });

      writeFileSync(entry, 'export default { fetch( {');
      await waitFor(child, 'stderr', /not reloaded, the previous version keeps answering/, err);
      expect(await (await fetch(`${url}?name=three`)).json()).toEqual({ howdy: 'three' });

      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    });
  },
  // ptrace only: the KVM path is the same MicroVM code fn run's KVM tests cover.
  ['ptrace'],
);
