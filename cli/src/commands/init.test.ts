// `fn init` makes a folder that `fn run` can run as it is, in JavaScript and in TypeScript.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fnBin = fileURLToPath(new URL('../../bin/fn.js', import.meta.url));
const fn = (args: string[], cwd: string) => spawnSync(process.execPath, [fnBin, ...args], { cwd, encoding: 'utf8' });

describe('fn init', () => {
  for (const ts of [false, true]) {
    it(`creates a ${ts ? 'TypeScript' : 'JavaScript'} function that fn run answers`, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'fn-init-'));
      const made = fn(['init', 'greeter', ...(ts ? ['--ts'] : [])], cwd);
      expect(made.status, made.stderr).toBe(0);
      const ran = fn(['run', 'greeter', '--path', '/?name=fn', '--backend', 'process', '--no-reset'], cwd);
      expect(ran.status, ran.stderr).toBe(0);
      expect(JSON.parse(ran.stdout)).toEqual({ hello: 'fn' });
    });
  }

  it('refuses an invalid name and an existing folder', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fn-init-'));
    expect(fn(['init', 'Bad_Name'], cwd).stderr).toMatch(/not a valid function name/);
    fn(['init', 'twice'], cwd);
    const again = fn(['init', 'twice'], cwd);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});
