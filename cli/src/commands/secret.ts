/**
 * `fn secret set <name> KEY=VALUE` / `fn secret unset <name> KEY` / `fn secret list <name>`.
 * Secrets are write-only: the value goes to the gateway and is never printed back.
 */
import { parseArgs } from 'node:util';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';
import { splitPair } from './env.js';

export const secretUsage = `usage: fn secret set <name> KEY=VALUE | fn secret unset <name> KEY | fn secret list <name>  ${targetUsage}`;

export async function secretCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions } });
  const [action, name, ...items] = positionals;
  if (!name) throw new UsageError(secretUsage);
  if (action === 'list' && items.length === 0) {
    for (const key of await resolveTarget(values).api.listSecrets(name)) process.stdout.write(`${key}\n`);
    return 0;
  }
  if (items.length !== 1) throw new UsageError(secretUsage);
  if (action === 'set') {
    // The message of a bad pair names only the key: the item may hold the value.
    const [key, value] = splitPair(items[0]!, false);
    if (value === '') throw new UsageError(`the secret ${key} needs a value: KEY=VALUE`);
    await resolveTarget(values).api.setSecret(name, key, value);
    process.stdout.write(`set secret ${key} on ${name} (the next invocation sees it)\n`);
    return 0;
  }
  if (action === 'unset') {
    const existed = await resolveTarget(values).api.unsetSecret(name, items[0]!);
    process.stdout.write(existed ? `removed secret ${items[0]} from ${name}\n` : `${name} had no secret ${items[0]}\n`);
    return 0;
  }
  throw new UsageError(secretUsage);
}
