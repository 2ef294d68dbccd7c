// `fn up` as a user starts it: a separate process on a random port, on the kvm backend (the ptrace
// stand-in where there is no KVM). The first start deploys functions/hello; the test deploys
// functions/counter with the real CLI and invokes both over HTTP. Every invocation of counter must
// answer 1: each one starts from the snapshot, so no invocation sees another's state.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '@fn/registry';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { parsePrometheusText, sumOf } from '../../../gateway/src/test-support/prometheus-text.js';

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

/** Processes of this checkout's VMM hosts and guests: what a failed start must not leave behind. */
function ourProcesses(): Set<string> {
  const found = new Set<string>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(`${root}worker/`) || cmdline.includes(`${root}guest/build/`)) found.add(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Runs `fn up` to its exit: code, output, and any of our processes it left running. */
function fnUpFails(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string; leftover: string[] }> {
  const before = ourProcesses();
  const child = spawn(process.execPath, [fnBin, 'up', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      setTimeout(() => resolve({ code, stdout, stderr, leftover: [...ourProcesses()].filter((p) => !before.has(p)) }), 500);
    });
  });
}

describe('fn up that cannot start', () => {
  it('a port in use: one line naming the port and what to do, exit code 1, nothing left running', { timeout: scaledTimeout(60_000) }, async () => {
    const busy = createServer();
    await new Promise<void>((listening) => busy.listen(0, '127.0.0.1', listening));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await fnUpFails(['--port', String(port), '--data', mkdtempSync(join(tmpdir(), 'fn-up-busy-'))]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^fn: starting \\(data in .*\\)\nfn: port ${port} is already in use on 127\\.0\\.0\\.1 — stop what listens there, or start fn on another port with --port N \\(or PORT=N\\)\n$`,
        ),
      );
      expect(r.leftover).toEqual([]);
    } finally {
      busy.close();
    }
  });

  it('a data directory that cannot be written: one line, exit code 1', { timeout: scaledTimeout(60_000) }, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fn-up-file-')), 'not-a-dir');
    writeFileSync(file, '');
    const r = await fnUpFails(['--port', '0', '--data', join(file, 'data')]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(2);
    expect(r.stderr).toMatch(/fn: the data directory .*not-a-dir\/data cannot be written \(ENOTDIR\) — fix its permissions, or choose another with --data DIR/);
    expect(r.leftover).toEqual([]);
  });
});

describe('fn up with an FN_API_KEY it cannot use (issue 13, hole 5)', () => {
  it('at the first start, a malformed key: one line saying what is wrong, exit code 1, nothing left running', { timeout: scaledTimeout(60_000) }, async () => {
    const r = await fnUpFails(['--port', '0', '--data', mkdtempSync(join(tmpdir(), 'fn-up-badkey-'))], { ...process.env, FN_API_KEY: 'short' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fn: starting .*\nfn: FN_API_KEY cannot be used: .*at least 16 characters.*\n$/);
    expect(r.stdout).not.toMatch(/fn is up/);
    expect(r.leftover).toEqual([]);
  });

  it('at a later start, a key that is not an admin key of the directory: exit code 1 before listening', { timeout: scaledTimeout(60_000) }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fn-up-badkey-'));
    const registry = Registry.open(dataDir);
    registry.keys.ensureAdminKey();
    registry.close();
    for (const key of ['short', 'fn_0123456789abcdef_notthekeynotthekeynotthekeynotthekeynotthe']) {
      const r = await fnUpFails(['--port', '0', '--data', dataDir], { ...process.env, FN_API_KEY: key });
      expect(r.code, key).toBe(1);
      expect(r.stderr).toMatch(
        /fn: FN_API_KEY cannot be used: FN_API_KEY is not an active admin key of this data directory .* — unset FN_API_KEY, or set it to an admin key of this directory\n$/,
      );
      expect(r.stdout).not.toMatch(/fn is up/);
      expect(r.leftover).toEqual([]);
    }
  });
});

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

      // The probes and the metrics the banner names: ready (the base was made at start), and
      // the five invocations of counter counted.
      expect(up.output()).toContain(`${up.url}/readyz`);
      // (the worker says so in its next report, at most a second after the base is made).
      let ready = await fetch(`${up.url}/readyz`);
      for (let i = 0; ready.status !== 200 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await fetch(`${up.url}/readyz`);
      }
      expect(ready.status).toBe(200);
      const metrics = await fetch(`${up.url}/metrics`, { headers: { authorization: `Bearer ${up.key}` } });
      expect(metrics.status).toBe(200);
      expect(sumOf(parsePrometheusText(await metrics.text()), 'fn_invocations_total', { tenant: 'default', function: 'counter', status: 'ok' })).toBe(5);
    });
  },
  ['kvm', 'ptrace'],
);
