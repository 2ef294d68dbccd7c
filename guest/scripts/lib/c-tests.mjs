// c-tests.mjs — the guest's C unit tests (src/*_test.c): which programs there are, how each is
// built with the host's gcc, and what each reported. Every program prints one line per case,
// "ok <name>[ # <detail>]" or "FAIL <name>: <why>", so each case can be reported on its own
// (guest/src/c-tests.test.ts gives each one a vitest test; scripts/test-c.mjs prints them).
//
// The code under test is compiled for the host: these tests check logic (allocator invariants,
// ChaCha20 test vectors, UTF-8 edge cases, calendar arithmetic), not the guest environment — the
// smoke tests do that. arena.c is compiled with its malloc family renamed so the test program keeps
// the host's allocator for itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const guest = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(guest, 'src');
const out = join(guest, 'build', 'test');

const RENAME_MALLOC = ['malloc', 'free', 'realloc', 'calloc', 'malloc_usable_size'].map((f) => `-D${f}=fn_test_${f}`);
export const C_TESTS = [
  { name: 'arena', test: 'arena_test.c', units: [{ file: 'arena.c', flags: ['-fno-builtin', ...RENAME_MALLOC] }] },
  { name: 'chacha20', test: 'chacha20_test.c', units: [{ file: 'chacha20.c' }, { file: 'entropy.c' }] },
  { name: 'sha', test: 'sha_test.c', units: [{ file: 'sha.c' }] },
  { name: 'utf8', test: 'utf8_test.c', units: [{ file: 'utf8.c' }] },
  { name: 'time_shim', test: 'time_shim_test.c', units: [{ file: 'time_shim.c' }] },
];
const FLAGS = ['-O2', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-I', src, '-I', join(guest, 'include')];

/** Compiles one test program; returns its path. Throws with gcc's messages. */
export function buildCTest(t) {
  mkdirSync(out, { recursive: true });
  const objects = t.units.map(({ file, flags = [] }) => {
    const o = join(out, `${t.name}-${file.replace(/\.c$/, '.o')}`);
    execFileSync('gcc', [...FLAGS, ...flags, '-c', join(src, file), '-o', o], { stdio: ['ignore', 'pipe', 'pipe'] });
    return o;
  });
  const exe = join(out, `${t.name}_test`);
  execFileSync('gcc', [...FLAGS, join(src, t.test), ...objects, '-o', exe], { stdio: ['ignore', 'pipe', 'pipe'] });
  return exe;
}

/**
 * Builds and runs one program. cases: what it reported, in order; status: its exit code (null if
 * a signal ended it: then the cases after the crash are missing, and `signal` says which).
 */
export function runCTest(t) {
  let exe;
  try {
    exe = buildCTest(t);
  } catch (error) {
    return { name: t.name, buildError: `${error.message}\n${error.stderr ?? ''}`, cases: [], status: null, signal: null, output: '' };
  }
  const r = spawnSync(exe, { encoding: 'utf8' });
  const cases = [];
  for (const line of r.stdout.split('\n')) {
    const ok = /^ok (.+?)(?: # (.*))?$/.exec(line);
    if (ok) cases.push({ name: ok[1], ok: true, detail: ok[2] ?? '' });
    const failed = /^FAIL (.+?): (.*)$/.exec(line);
    if (failed) {
      const known = cases.find((c) => c.name === failed[1] && !c.ok);
      if (known) known.detail += `\n${failed[2]}`;
      else cases.push({ name: failed[1], ok: false, detail: failed[2] });
    }
  }
  return { name: t.name, cases, status: r.status, signal: r.signal, output: `${r.stdout}${r.stderr}` };
}
