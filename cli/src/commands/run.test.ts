// `fn run` as a user runs it: the real bin, a real function folder, real output.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function fn(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['cli/bin/fn.js', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeEachBackend('fn run', (backend) => {
  it('prints the greeting of functions/hello', () => {
    const r = fn(['run', 'functions/hello', '--backend', backend]);
    // Only the process backend has something to say: it cannot reset between invocations.
    expect(r.stderr).toBe(backend === 'process' ? 'fn: the process backend has no snapshots: state carries over between invocations\n' : '');
    expect(r.stdout).toBe('Hello from fn!\n');
    expect(r.code).toBe(0);
  });

  if (backend !== 'process') {
    it('--repeat starts every invocation from the snapshot: counter prints 1 five times', () => {
      const r = fn(['run', 'functions/counter', '--backend', backend, '--repeat', '5']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('1\n1\n1\n1\n1\n');
    });

    it('--repeat 200 on uuid: every invocation restored from one snapshot gets its own randomness', () => {
      const r = fn(['run', 'functions/uuid', '--backend', backend, '--repeat', '200']);
      expect(r.code, r.stderr).toBe(0);
      const ids = r.stdout.trim().split('\n');
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('--no-reset lets state carry over, so the same VM counts up', () => {
      const r = fn(['run', 'functions/counter', '--backend', backend, '--repeat', '3', '--no-reset']);
      expect(r.stdout).toBe('1\n2\n3\n');
    });
  }

  it('--repeat runs on one VM and --json prints one object per invocation', () => {
    const r = fn(['run', 'functions/echo', '--backend', backend, '--path', '/p?q=1', '-d', '{"a":1}', '--repeat', '3', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.status).toBe(200);
      expect(JSON.parse(line.body)).toMatchObject({ method: 'POST', path: '/p', query: { q: '1' }, body: { a: 1 } });
      expect(typeof line.durationMs).toBe('number');
      expect(line.logs).toEqual([]);
    }
  });
});

describe('fn run errors', () => {
  it('says clearly when the folder has no fn.json', () => {
    const r = fn(['run', 'functions'], { FN_BACKEND: 'process' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fn: .*fn\.json not found/);
  });

  it('rejects bad arguments with the usage line and exit code 2', () => {
    const r = fn(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: fn run <function-dir>/);
  });

  it('reports a function that fails to load with its JS error', () => {
    const r = fn(['run', 'vmm/src/test-support/broken-function', '--backend', 'process']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fn: the function failed to load: ReferenceError: .*notDefinedAnywhere/);
  });
});
