/** `fn list`: the tenant's functions with their live and latest versions (--json: the array). */
import { parseArgs } from 'node:util';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';
import { table, when } from './format.js';

export const listUsage = `usage: fn list [--json] ${targetUsage}`;

export async function listCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError(listUsage);
  const functions = await resolveTarget(values).api.listFunctions();
  if (values.json) {
    process.stdout.write(JSON.stringify(functions) + '\n');
  } else if (functions.length === 0) {
    process.stderr.write('no functions yet — deploy one with `fn deploy <dir>`\n');
  } else {
    process.stdout.write(
      table([
        ['NAME', 'LIVE', 'LATEST', 'PUBLIC', 'UPDATED'],
        ...functions.map((f) => [
          f.name,
          String(f.liveVersion ?? '-'),
          String(f.latestVersion ?? '-'),
          f.public === null ? '-' : f.public ? 'yes' : 'no',
          when(f.updatedAt),
        ]),
      ]),
    );
  }
  return 0;
}
