/** `fn describe <name>`: versions, aliases, live env var names and secret names (--json: all of it). */
import { parseArgs } from 'node:util';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';
import { table, when } from './format.js';

export const describeUsage = `usage: fn describe <name> [--json] ${targetUsage}`;

export async function describeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new UsageError(describeUsage);
  const d = await resolveTarget(values).api.describe(name);
  if (values.json) {
    process.stdout.write(JSON.stringify(d) + '\n');
    return 0;
  }
  const live = d.versions.find((v) => v.version === d.liveVersion);
  const lines = [
    `name:     ${d.name}`,
    `tenant:   ${d.tenant}`,
    `live:     ${d.liveVersion ?? '-'}   latest: ${d.latestVersion ?? '-'}   public: ${d.public === null ? '-' : d.public ? 'yes' : 'no'}`,
    `aliases:  ${d.aliases.map((a) => `${a.name}→${a.version}`).join(', ') || '-'}`,
    `env:      ${live ? Object.keys(live.env).join(', ') || '-' : '-'}`,
    `secrets:  ${d.secrets.join(', ') || '-'}`,
    `created:  ${when(d.createdAt)}   updated: ${when(d.updatedAt)}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(
    table([
      ['VERSION', 'MEMORY', 'TIMEOUT', 'BUNDLE', 'CREATED'],
      ...[...d.versions]
        .sort((a, b) => b.version - a.version)
        .map((v) => [
          `${v.version}${v.version === d.liveVersion ? ' (live)' : ''}`,
          `${v.config.memoryMiB} MiB`,
          `${v.config.timeoutMs} ms`,
          v.bundleDigest.slice(0, 19),
          when(v.createdAt),
        ]),
    ]),
  );
  return 0;
}
