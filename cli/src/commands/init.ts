/**
 * `fn init <name> [--ts]`: a new function folder with an fn.json and a hello-world handler, ready
 * for `fn run <name>` and `fn deploy <name>`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCHEMA_FILE } from '../fn-json-schema.js';
import { FunctionConfigSchema } from '../function-config.js';
import { UsageError } from '../usage-error.js';

export const initUsage = 'usage: fn init <name> [--ts] [--json]';

/** cli/schema/fn.schema.json of this fn, for editors; fn.json's "$schema" is the path relative to the folder. */
const SCHEMA_PATH = fileURLToPath(new URL(`../../${SCHEMA_FILE}`, import.meta.url));

const JS_HANDLER = `// Web-standard handler: https://developer.mozilla.org/docs/Web/API/Response
export default {
  async fetch(request, env, ctx) {
    const name = new URL(request.url).searchParams.get('name') ?? 'world';
    return Response.json({ hello: name });
  },
};
`;

const TS_HANDLER = `export default {
  async fetch(request: Request, env: Record<string, string>): Promise<Response> {
    const name = new URL(request.url).searchParams.get('name') ?? 'world';
    return Response.json({ hello: name });
  },
};
`;

const TS_CONFIG = `{
  "compilerOptions": {
    "target": "ES2020",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "lib": ["ES2020", "DOM"],
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true
  },
  "include": ["src"]
}
`;

export async function initCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ts: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new UsageError(initUsage);
  const entry = values.ts ? 'src/index.ts' : 'index.js';
  const dir = resolve(name);
  const config = { $schema: relative(dir, SCHEMA_PATH), name, entry, memoryMiB: 64, timeoutMs: 5000, public: false, env: {} };
  const parsed = FunctionConfigSchema.safeParse(config);
  if (!parsed.success) throw new UsageError(`"${name}" is not a valid function name: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  if (existsSync(dir)) throw new UsageError(`${dir} already exists — pick another name or remove it`);
  mkdirSync(values.ts ? join(dir, 'src') : dir, { recursive: true });
  writeFileSync(join(dir, 'fn.json'), JSON.stringify(config, null, 2) + '\n');
  writeFileSync(join(dir, entry), values.ts ? TS_HANDLER : JS_HANDLER);
  if (values.ts) writeFileSync(join(dir, 'tsconfig.json'), TS_CONFIG);
  if (values.json) process.stdout.write(JSON.stringify({ dir, name, entry, files: ['fn.json', entry, ...(values.ts ? ['tsconfig.json'] : [])] }) + '\n');
  else process.stdout.write(`created ${dir}\n  try it:  fn run ${name} --path '/?name=fn'\n  deploy:  fn deploy ${name}\n`);
  return 0;
}
