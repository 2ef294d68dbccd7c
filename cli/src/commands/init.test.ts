// `fn init` makes a folder that `fn run` can run as it is, in JavaScript and in TypeScript.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fnJsonSchemaText } from '../fn-json-schema.js';

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

  it('writes "$schema" pointing at cli/schema/fn.schema.json, which is the zod schema as generated now', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fn-init-'));
    const made = fn(['init', 'schemed', '--json'], cwd);
    expect(made.status, made.stderr).toBe(0);
    const { dir } = JSON.parse(made.stdout) as { dir: string };
    const config = JSON.parse(readFileSync(join(dir, 'fn.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(config)[0]).toBe('$schema');
    const schemaFile = resolve(dir, config.$schema as string);
    expect(schemaFile).toBe(fileURLToPath(new URL('../../schema/fn.schema.json', import.meta.url)));
    // The committed file is what the generator writes today: run `npm run schema -w @fn/cli` if not.
    const committed = readFileSync(schemaFile, 'utf8');
    expect(committed).toBe(fnJsonSchemaText());
    const schema = JSON.parse(committed);
    expect(schema.required).toEqual(['name', 'entry']);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(Object.keys(config)));
  });

  it('refuses an invalid name and an existing folder', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fn-init-'));
    expect(fn(['init', 'Bad_Name'], cwd).stderr).toMatch(/not a valid function name/);
    fn(['init', 'twice'], cwd);
    const again = fn(['init', 'twice'], cwd);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});
