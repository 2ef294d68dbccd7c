#!/usr/bin/env node
// test-c.mjs — builds and runs the guest's C unit tests (src/*_test.c) with the host's gcc.
//
//   node guest/scripts/test-c.mjs
//
// The code under test is compiled for the host: these tests check logic (allocator invariants,
// ChaCha20 test vectors, UTF-8 edge cases, calendar arithmetic), not the guest environment — the
// smoke tests do that. arena.c is compiled with its malloc family renamed so the test program keeps
// the host's allocator for itself.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const guest = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(guest, 'src');
const out = join(guest, 'build', 'test');
mkdirSync(out, { recursive: true });

const RENAME_MALLOC = ['malloc', 'free', 'realloc', 'calloc', 'malloc_usable_size'].map((f) => `-D${f}=fn_test_${f}`);
const TESTS = [
  { name: 'arena', test: 'arena_test.c', units: [{ file: 'arena.c', flags: ['-fno-builtin', ...RENAME_MALLOC] }] },
  { name: 'chacha20', test: 'chacha20_test.c', units: [{ file: 'chacha20.c' }, { file: 'entropy.c' }] },
  { name: 'utf8', test: 'utf8_test.c', units: [{ file: 'utf8.c' }] },
  { name: 'time_shim', test: 'time_shim_test.c', units: [{ file: 'time_shim.c' }] },
];
const FLAGS = ['-O2', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-I', src, '-I', join(guest, 'include')];

let passed = 0;
let failed = 0;
for (const t of TESTS) {
  const objects = t.units.map(({ file, flags = [] }) => {
    const o = join(out, `${t.name}-${file.replace(/\.c$/, '.o')}`);
    execFileSync('gcc', [...FLAGS, ...flags, '-c', join(src, file), '-o', o], { stdio: 'inherit' });
    return o;
  });
  const exe = join(out, `${t.name}_test`);
  execFileSync('gcc', [...FLAGS, join(src, t.test), ...objects, '-o', exe], { stdio: 'inherit' });
  const r = spawnSync(exe, { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status === 0) passed++;
  else {
    failed++;
    process.stdout.write(`FAIL ${t.name} (exit ${r.status}) ${r.stderr}\n`);
  }
}
console.log(`c-tests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
