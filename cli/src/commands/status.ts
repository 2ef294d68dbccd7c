/** `fn status`: what the platform holds (admin key): the disk of its snapshot store (--json: the answer). */
import { parseArgs } from 'node:util';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';

export const statusUsage = `usage: fn status [--json] ${targetUsage}`;

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError(statusUsage);
  const status = await resolveTarget(values).api.status();
  if (values.json) {
    process.stdout.write(JSON.stringify(status) + '\n');
  } else if (status.snapshots === null) {
    process.stdout.write('snapshots: this gateway has no snapshot store\n');
  } else {
    const { blobs, bytes } = status.snapshots;
    process.stdout.write(`snapshots: ${(bytes / (1024 * 1024)).toFixed(1)} MiB on disk in ${blobs} blob${blobs === 1 ? '' : 's'}\n`);
  }
  return 0;
}
