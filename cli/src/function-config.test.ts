// fn.json: the published JSON schema stays in step with the zod schema, and every example
// function's fn.json is valid.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { FunctionConfigSchema, readFunctionDir, FunctionConfigError } from './function-config.js';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
const functionsDir = fileURLToPath(new URL('../../functions', import.meta.url));

describe('fn.json', () => {
  it('cli/schema/fn.schema.json is the JSON schema of FunctionConfigSchema', () => {
    const published = JSON.parse(readFileSync(join(cliDir, 'schema', 'fn.schema.json'), 'utf8'));
    const { title, ...schema } = published;
    expect(title).toMatch(/fn\.json/);
    expect(schema).toEqual(z.toJSONSchema(FunctionConfigSchema, { io: 'input' }));
  });

  it('every example function has a valid fn.json', () => {
    const dirs = readdirSync(functionsDir).filter((d) => existsSync(join(functionsDir, d, 'fn.json')));
    expect(dirs.length).toBeGreaterThanOrEqual(7);
    for (const d of dirs) expect(readFunctionDir(join(functionsDir, d)).config.name).toBe(d);
  });

  it('refuses unknown fields and out-of-range limits with the field named', () => {
    expect(() => FunctionConfigSchema.parse({ name: 'x', entry: 'i.js', memoryMB: 64 })).toThrow();
    expect(FunctionConfigSchema.safeParse({ name: 'x', entry: 'i.js', memoryMiB: 4096 }).success).toBe(false);
    expect(() => readFunctionDir(functionsDir)).toThrow(FunctionConfigError);
  });
});
