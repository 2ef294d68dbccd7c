/**
 * fn.json: the per-function configuration that sits in a function's folder.
 *   { "name": "hello", "entry": "index.js", "memoryMiB": 64, "timeoutMs": 5000, "env": {} }
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { MEMORY_MIB_MAX, MEMORY_MIB_MIN, TIMEOUT_MS_MAX } from '@fn/vmm';

export const FunctionConfigSchema = z
  .object({
    $schema: z.string().optional().describe('The JSON Schema of this file, for editors (fn init writes it).'),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes (at most 63), starting with a letter or digit')
      .describe('The function name: its URL is /fn/<tenant>/<name>.'),
    entry: z.string().min(1).describe('The handler file, relative to this folder (JavaScript or TypeScript); esbuild bundles it.'),
    memoryMiB: z.number().int().min(MEMORY_MIB_MIN).max(MEMORY_MIB_MAX).default(64).describe("The microVM's memory in MiB."),
    timeoutMs: z.number().int().min(1).max(TIMEOUT_MS_MAX).default(10_000).describe('How long one invocation may run, in milliseconds.'),
    public: z.boolean().default(false).describe('true: anyone may invoke it without an API key.'),
    env: z.record(z.string(), z.string()).default({}).describe("Env vars, the handler's env argument (secrets: fn secret set)."),
  })
  .strict();
export type FunctionConfig = z.output<typeof FunctionConfigSchema>;

export class FunctionConfigError extends Error {
  override name = 'FunctionConfigError';
}

export interface FunctionDir {
  dir: string;
  config: FunctionConfig;
  entryPath: string;
}

export function readFunctionDir(dir: string): FunctionDir {
  const abs = resolve(dir);
  const file = join(abs, 'fn.json');
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new FunctionConfigError(`${file} not found — a function folder needs an fn.json with at least "name" and "entry"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new FunctionConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = FunctionConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'the file';
    throw new FunctionConfigError(`${file}: ${where}: ${issue.message}`);
  }
  return { dir: abs, config: parsed.data, entryPath: join(abs, parsed.data.entry) };
}
