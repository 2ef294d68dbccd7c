/**
 * `fn env set <name> KEY=VALUE...` / `fn env unset <name> KEY...` / `fn env get <name>`. Each
 * change publishes a new version and moves live; the next invocation sees it.
 */
import { parseArgs } from 'node:util';
import type { EnvChange } from '../api-client.js';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';

export const envUsage = `usage: fn env set <name> KEY=VALUE... | fn env unset <name> KEY... | fn env get <name>  [--json] ${targetUsage}`;

export async function envCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  const [action, name, ...items] = positionals;
  if (!name || !['set', 'unset', 'get'].includes(action!)) throw new UsageError(envUsage);
  if (action === 'get') {
    if (items.length > 0) throw new UsageError(envUsage);
    const view = await resolveTarget(values).api.getEnv(name);
    if (values.json) process.stdout.write(JSON.stringify(view) + '\n');
    else for (const [k, v] of Object.entries(view.env)) process.stdout.write(`${k}=${v}\n`);
    return 0;
  }
  if (items.length === 0) throw new UsageError(envUsage);
  const pairs = action === 'set' ? items.map((item) => splitPair(item)) : items.map((k): [string, string] => [k, '']);
  const { api } = resolveTarget(values);
  let last: EnvChange | undefined;
  for (const [key, value] of pairs) last = action === 'set' ? await api.setEnv(name, key, value) : await api.unsetEnv(name, key);
  const v = last!.version;
  if (values.json) {
    process.stdout.write(JSON.stringify({ version: v.version, env: v.env, published: last!.published }) + '\n');
  } else {
    const keys = pairs.map(([k]) => k).join(', ');
    process.stdout.write(`${action === 'set' ? 'set' : 'unset'} ${keys} on ${name}: live is version ${v.version} (the next invocation sees it)\n`);
  }
  return 0;
}

/** echo: false for secrets, whose argument must not be printed back even when malformed. */
export function splitPair(item: string, echo = true): [string, string] {
  const eq = item.indexOf('=');
  if (eq <= 0) throw new UsageError(echo ? `"${item}" must look like KEY=VALUE` : 'the secret must be given as KEY=VALUE');
  return [item.slice(0, eq), item.slice(eq + 1)];
}
