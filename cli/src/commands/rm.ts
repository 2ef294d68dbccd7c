/** `fn rm <name>`: deletes a function with all its versions, aliases and secrets. */
import { parseArgs } from 'node:util';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';

export const rmUsage = `usage: fn rm <name> [--json] ${targetUsage}`;

export async function rmCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new UsageError(rmUsage);
  const gone = await resolveTarget(values).api.deleteFunction(name);
  process.stdout.write(values.json ? JSON.stringify(gone) + '\n' : `deleted ${gone.name} (${gone.versions} version${gone.versions === 1 ? '' : 's'})\n`);
  return 0;
}
