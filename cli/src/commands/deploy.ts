/**
 * `fn deploy [dir]`: bundles a function folder (fn.json + its entry) with esbuild and deploys it:
 * the gateway builds its snapshot and moves live to the new version. Progress goes to stderr; the
 * invocation URL and the version to stdout (--json: one object).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleFunction } from '../bundle.js';
import { readFunctionDir } from '../function-config.js';
import { startProgress } from '../progress.js';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';

export const deployUsage = `usage: fn deploy [function-dir] [--json] ${targetUsage}`;

export async function deployCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...targetOptions, json: { type: 'boolean', default: false } } });
  if (positionals.length > 1) throw new UsageError(deployUsage);
  const target = resolveTarget(values);
  const fn = readFunctionDir(positionals[0] ?? '.');

  process.stderr.write('bundling… ');
  const bundle = await bundleFunction(fn.entryPath);
  process.stderr.write(`${(bundle.bytes / 1024).toFixed(1)} KiB in ${Math.round(bundle.ms)} ms\n`);
  const progress = startProgress('deploying… (building the snapshot)');
  const started = performance.now();
  const { config } = fn;
  const version = await target.api
    .deploy({
      name: config.name,
      bundle: bundle.code,
      ...(bundle.sourceMap ? { sourceMap: bundle.sourceMap } : {}),
      config: {
        entry: config.entry,
        memoryMiB: config.memoryMiB,
        timeoutMs: config.timeoutMs,
        public: config.public,
        // Only an fn.json that says "env" replaces the env vars: otherwise the live version's
        // (set with `fn env set`) are kept, as the gateway does for a deploy without them.
        ...(declaresEnv(fn.dir) ? { env: config.env } : {}),
      },
    })
    .finally(() => progress.done());
  const url = `${target.url}/fn/${encodeURIComponent(version.tenant)}/${encodeURIComponent(version.function)}`;
  const ms = Math.round(performance.now() - started);
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        name: version.function,
        tenant: version.tenant,
        version: version.version,
        url,
        bundleBytes: bundle.bytes,
        bundleDigest: version.bundleDigest,
        snapshotDigest: version.snapshotDigest,
        deployMs: ms,
      }) + '\n',
    );
  } else {
    process.stdout.write(`deployed ${version.function} version ${version.version} in ${ms} ms\n${url}\n`);
  }
  return 0;
}

function declaresEnv(dir: string): boolean {
  const json = JSON.parse(readFileSync(join(dir, 'fn.json'), 'utf8')) as Record<string, unknown>;
  return Object.hasOwn(json, 'env');
}
