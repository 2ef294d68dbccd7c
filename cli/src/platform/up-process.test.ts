// `fn up` as a user starts it: a separate process on a random port, on the kvm backend (the ptrace
// stand-in where there is no KVM). The first start deploys functions/hello; the test deploys
// functions/counter with the real CLI and invokes both over HTTP. Every invocation of counter must
// answer 1: each one starts from the snapshot, so no invocation sees another's state.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fnBin = join(root, 'cli/bin/fn.js');
const children: ChildProcess[] = [];

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
});

/** Starts `fn up` and resolves with its URL and admin key once it has printed both. */
function fnUp(args: string[]): Promise<{ url: string; key: string; output: () => string }> {
  // The first start makes the admin key itself (an FN_API_KEY in the test's environment would be adopted).
  const { FN_API_KEY: _adopted, ...env } = process.env;
  const child = spawn(process.execPath, [fnBin, 'up', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fn up exited with ${code} before it was up:\n${out}`)));
    const poll = setInterval(() => {
      const url = /fn is up at (http:\/\/\S+)/.exec(out)?.[1];
      const key = /admin API key \(shown once, keep it\): (\S+)/.exec(out)?.[1];
      if (url && key && out.includes('try it:')) {
        clearInterval(poll);
        resolve({ url, key, output: () => out });
      }
    }, 50);
  });
}

function fn(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fnBin, ...args], { cwd: root, env: { ...process.env, ...env, XDG_CONFIG_HOME: tmpdir() } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeEachBackend(
  'fn up as a process',
  (backend) => {
    it('serves hello, deploys counter with the CLI, and resets the VM after every invocation', { timeout: scaledTimeout(120_000) }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fn-up-'));
      const up = await fnUp(['--port', '0', '--data', dataDir, '--backend', backend]);
      expect(up.output()).toContain(`(backend: ${backend}`);

      const hello = await fetch(`${up.url}/fn/default/hello`);
      expect(hello.status).toBe(200);
      expect(await hello.text()).toContain('Hello');

      const env = { FN_URL: up.url, FN_API_KEY: up.key };
      const deploy = await fn(['deploy', 'functions/counter', '--tenant', 'default'], env);
      expect(deploy.code, deploy.stderr).toBe(0);

      const answers: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${up.url}/fn/default/counter`, { headers: { authorization: `Bearer ${up.key}` } });
        expect(r.status).toBe(200);
        answers.push(await r.text());
      }
      expect(answers).toEqual(['1', '1', '1', '1', '1']);
    });
  },
  ['kvm', 'ptrace'],
);
