// The guest's own suites, run from vitest so `npm test` covers them, each check reported as a test
// of its own (guest/scripts/lib/checks.mjs prints a result line per check; the C unit tests do the
// same in c-tests.test.ts):
//  - the smoke suite against fn-guest-process (seccomp strict) over the frame protocol;
//  - the same smoke suite against the KVM ELF itself, executed at its real addresses under a ptrace
//    harness that fails on any system call: proof that the KVM build makes none, even without KVM;
//  - snapshots under that harness: SNAPSHOT, restore into new processes, RESET, base + diff, refusals;
//  - static checks of the KVM ELF (layout, no undefined symbols, no unexplained syscall instructions).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declareNativeResults, runNativeSuite } from '../../vmm/src/test-support/native-results.js';

const guestDir = fileURLToPath(new URL('..', import.meta.url));
const node = process.execPath;
// The suites run while vitest collects this file (the checks' names are known once they ran).
const onProcessBuild = await runNativeSuite(node, ['scripts/smoke-process.mjs'], { cwd: guestDir });
const onKvmElf = await runNativeSuite(node, ['scripts/smoke-process.mjs', '--kvm-elf'], { cwd: guestDir });
const snapshots = await runNativeSuite(node, ['scripts/smoke-snapshot.mjs'], { cwd: guestDir });

describe('smoke suite on the process build', () => {
  declareNativeResults(onProcessBuild, (r) => r.name, ['smoke']);
});

describe('smoke suite on the KVM ELF under the syscall-refusing ptrace harness', () => {
  declareNativeResults(onKvmElf, (r) => r.name, ['smoke']);
});

describe('SNAPSHOT, RESTORE and RESET under ptrace-vmm', () => {
  declareNativeResults(snapshots, (r) => r.name, ['snapshot']);
});

describe('guest ELF', () => {
  it('the KVM ELF passes its static checks', () => {
    const r = spawnSync(node, ['scripts/inspect-elf.mjs'], { cwd: guestDir, encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
  });
});
