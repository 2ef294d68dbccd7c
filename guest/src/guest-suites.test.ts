// The guest's own suites, run from vitest so `npm test` covers them (the C unit tests report each
// case on their own: c-tests.test.ts):
//  - the smoke suite against fn-guest-process (seccomp strict) over the frame protocol;
//  - the same smoke suite against the KVM ELF itself, executed at its real addresses under a ptrace
//    harness that fails on any system call: proof that the KVM build makes none, even without KVM;
//  - snapshots under that harness: SNAPSHOT, restore into new processes, RESET, base + diff, refusals;
//  - static checks of the KVM ELF (layout, no undefined symbols, no unexplained syscall instructions).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const guestDir = fileURLToPath(new URL('..', import.meta.url));

function runScript(args: string[]) {
  const r = spawnSync(process.execPath, args, { cwd: guestDir, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function expectAllPassed(out: string): void {
  const summaries = [...out.matchAll(/(\d+) passed, (\d+) failed/g)];
  expect(summaries.length, out.slice(-3000)).toBeGreaterThan(0);
  for (const m of summaries) {
    expect(Number(m[2]), out.slice(-3000)).toBe(0);
    expect(Number(m[1])).toBeGreaterThan(0);
  }
}

describe('guest suites', () => {
  it('smoke suite passes on the process build', { timeout: 180_000 }, () => {
    const r = runScript(['scripts/smoke-process.mjs']);
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expectAllPassed(r.out);
  });

  it('smoke suite passes on the KVM ELF under the syscall-refusing ptrace harness', { timeout: 180_000 }, () => {
    const r = runScript(['scripts/smoke-process.mjs', '--kvm-elf']);
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expectAllPassed(r.out);
  });

  it('SNAPSHOT, RESTORE and RESET work under ptrace-vmm', { timeout: 300_000 }, () => {
    const r = runScript(['scripts/smoke-snapshot.mjs']);
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expectAllPassed(r.out);
  });

  it('the KVM ELF passes its static checks', () => {
    const r = runScript(['scripts/inspect-elf.mjs']);
    expect(r.code, r.out.slice(-3000)).toBe(0);
  });
});
