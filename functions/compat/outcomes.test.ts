// Handler outcomes as a user meets them through `fn run`: each failure is reported with what
// happened and the exit status is 1; a handler that settles later through a timer is fine.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function fnRun(dir: string, backend: string) {
  const r = spawnSync(process.execPath, ['cli/bin/fn.js', 'run', `functions/compat/outcomes/${dir}`, '--backend', backend], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeEachBackend('handler outcomes through fn run', (backend) => {
  it('a promise that can never settle is reported at once, not after the timeout', () => {
    const r = fnRun('never-settles', backend);
    expect(r.stderr).toContain("the handler's promise never settled and never can: no timer or other pending work is left");
    expect(r.stderr).toContain('fn: 1 of 1 invocation failed');
    expect(r.code).toBe(1);
  });

  it("a thrown error's stack points at the user's file, line and column (source maps)", () => {
    const r = fnRun('throws', backend);
    expect(r.stderr).toContain('at fetch (functions/compat/outcomes/throws/index.js:4:5)');
  });

  it("console.error(err) shows the frames in the user's files, across modules", () => {
    const r = fnRun('logs-error', backend);
    expect(r.stdout).toBe('handled\n');
    expect(r.stderr).toContain('RangeError: not a positive count: zero');
    expect(r.stderr).toContain('at parseCount (functions/compat/outcomes/logs-error/helper.js:4:3)');
    expect(r.stderr).toContain('at fetch (functions/compat/outcomes/logs-error/index.js:7:7)');
    expect(r.code).toBe(0);
  });

  it('a fetch handler that returns something other than a Response says what it returned', () => {
    const r = fnRun('not-a-response', backend);
    expect(r.stderr).toMatch(/fetch\(\) must return a Response \(or a Promise of one\), but it returned an object/);
    expect(r.code).toBe(1);
  });

  it('a handler that throws: its error and a non-zero exit', () => {
    const r = fnRun('throws', backend);
    expect(r.stderr).toContain('RangeError: the widget count must be positive');
    expect(r.code).toBe(1);
  });

  it('a Lambda result that is not valid says what is wrong with it', () => {
    const r = fnRun('lambda-bad-status', backend);
    expect(r.stderr).toMatch(/statusCode "ok"; use an integer from 200 to 599/);
    expect(r.code).toBe(1);
  });

  it('a promise that a timer settles later is not an error', () => {
    const r = fnRun('timer-then-settles', backend);
    expect(r.stdout).toBe('settled by a timer\n');
    expect(r.code).toBe(0);
  });
});
