/**
 * `fn secret set <name> KEY` / `fn secret unset <name> KEY` / `fn secret list <name>`.
 * Secrets are write-only: the value goes to the gateway and is never printed back. `set` reads the
 * value from stdin, or asks for it without echo on a terminal; the old `KEY=VALUE` argument still
 * works but puts the value in the shell history and the process list, so it warns.
 */
import { parseArgs } from 'node:util';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { readSecret } from '../read-secret.js';
import { UsageError } from '../usage-error.js';
import { splitPair } from './env.js';

export const secretUsage = `usage: fn secret set <name> KEY (value from stdin) | fn secret unset <name> KEY | fn secret list <name>  [--json] ${targetUsage}`;

/** The names env vars may have; a secret's name is one of them. */
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function secretCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  const [action, name, ...items] = positionals;
  if (!name) throw new UsageError(secretUsage);
  if (action === 'list' && items.length === 0) {
    const names = await resolveTarget(values).api.listSecrets(name);
    if (values.json) process.stdout.write(JSON.stringify(names) + '\n');
    else for (const key of names) process.stdout.write(`${key}\n`);
    return 0;
  }
  if (items.length !== 1) throw new UsageError(secretUsage);
  if (action === 'set') {
    const item = items[0]!;
    let key: string;
    let value: string;
    if (item.includes('=')) {
      // The message of a bad pair names only the key: the item may hold the value.
      [key, value] = splitPair(item, false);
      process.stderr.write(
        `fn: warning: a value on the command line lands in the shell history and the process list — next time run \`fn secret set ${name} ${key}\` and type it, or pipe it in\n`,
      );
    } else {
      // A malformed name is not echoed: it may be a value typed in the wrong place.
      if (!KEY.test(item)) throw new UsageError(`the secret's name must be letters, digits and _ (not starting with a digit) — ${secretUsage}`);
      key = item;
      const target = resolveTarget(values); // before the prompt: a missing URL or key fails at once
      value = await readSecret(`value of ${key} for ${name} (not shown): `);
      if (value === '') throw new UsageError(`the secret ${key} needs a value: none came on stdin`);
      await target.api.setSecret(name, key, value);
      return printSet(key, name, values.json);
    }
    if (value === '') throw new UsageError(`the secret ${key} needs a value: KEY=VALUE`);
    await resolveTarget(values).api.setSecret(name, key, value);
    return printSet(key, name, values.json);
  }
  if (action === 'unset') {
    const existed = await resolveTarget(values).api.unsetSecret(name, items[0]!);
    if (values.json) process.stdout.write(JSON.stringify({ name, key: items[0], existed }) + '\n');
    else process.stdout.write(existed ? `removed secret ${items[0]} from ${name}\n` : `${name} had no secret ${items[0]}\n`);
    return 0;
  }
  throw new UsageError(secretUsage);
}

function printSet(key: string, name: string, json: boolean): number {
  process.stdout.write(json ? JSON.stringify({ name, key, set: true }) + '\n' : `set secret ${key} on ${name} (the next invocation sees it)\n`);
  return 0;
}
