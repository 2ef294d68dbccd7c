/** `fn rollback <name> [version]`: moves live to a version (default: the one below live). */
import { parseArgs } from 'node:util';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';

export const rollbackUsage = `usage: fn rollback <name> [version] [--json] ${targetUsage}`;

export async function rollbackCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  const [name, raw] = positionals;
  if (!name || positionals.length > 2) throw new UsageError(rollbackUsage);
  let version: number | undefined;
  if (raw !== undefined) {
    version = Number(raw.replace(/^v/, ''));
    if (!Number.isInteger(version) || version < 1) throw new UsageError(`the version must be a positive integer, not "${raw}"`);
  }
  const moved = await resolveTarget(values).api.rollback(name, version);
  process.stdout.write(values.json ? JSON.stringify(moved) + '\n' : `${name}: live moved from version ${moved.from ?? '-'} to ${moved.to}\n`);
  return 0;
}
