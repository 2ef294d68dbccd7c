// scripts/setup (npm run setup) decides which Debian packages are missing from the commands on PATH:
// run for real with --dry-run (installs nothing) on a PATH that lacks some of them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const setup = join(root, 'scripts/setup');
const which = (cmd: string) => spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const run = (args: string[], path = process.env.PATH!) =>
  spawnSync('/bin/bash', [setup, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: path } });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A PATH of symlinks to the tools setup itself runs, plus `present`, and nothing else. */
function pathWith(present: string[]): string {
  const bin = mkdtempSync(join(tmpdir(), 'fn-setup-path-'));
  dirs.push(bin);
  for (const cmd of ['node', 'dirname', 'id', 'ldd', ...present]) {
    const real = which(cmd);
    expect(real, `${cmd} must be installed for this test`).not.toBe('');
    symlinkSync(real, join(bin, cmd));
  }
  return bin;
}

it('names the packages whose commands are missing, and the one apt-get command that installs them', () => {
  const r = run(['--packages-only', '--dry-run'], pathWith(['make', 'g++', 'python3', 'runc', 'cpio', 'depmod', 'qemu-system-x86_64']));
  expect(r.status).toBe(1);
  const missing = r.stdout.match(/^setup: missing: (.*)$/m)?.[1]?.split(' ');
  // musl-gcc, crun and runsc are not on this PATH; nats-server may still be found at /usr/sbin.
  expect(missing).toEqual(expect.arrayContaining(['musl-tools', 'crun', 'runsc']));
  expect(missing).not.toContain('make');
  expect(missing).not.toContain('g++');
  expect(r.stdout).toMatch(/^setup: would run: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends musl-tools /m);
});

it('with everything on PATH it has nothing to install; an unknown option is a usage error', () => {
  const all = run(['--packages-only', '--dry-run'], [process.env.PATH, '/usr/sbin', '/sbin'].join(delimiter));
  expect(all.stdout).toBe('setup: system packages: all present\n');
  expect(all.status).toBe(0);
  const bad = run(['--frobnicate']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/^usage: npm run setup/);
});
