/**
 * Bundles child.ts so tests can run the registry's real code in separate processes. better-sqlite3
 * stays external (it is a native addon): the bundle goes in a temp directory with a node_modules
 * symlink to the repository's, where Node finds it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);
const repoNodeModules = fileURLToPath(new URL('../../../node_modules', import.meta.url));

export async function buildChild(dir: string): Promise<string> {
  const outfile = join(dir, 'child.mjs');
  await symlink(repoNodeModules, join(dir, 'node_modules'), 'dir');
  await build({
    entryPoints: [fileURLToPath(new URL('./child.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

export async function runChild<T>(child: string, args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [child, ...args]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

/** Starts a child and resolves once it printed its first line (it is then mid-work). */
export function startChild(child: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    proc.once('error', reject);
    proc.stdout!.once('data', () => resolve(proc));
  });
}
