// The ptrace VMM against a hostile guest and as a taken-over VMM (vmm/native/test/ptrace_scenarios.mjs):
// the probe guest's stray syscall, privileged instructions, unknown doorbells, reads outside its
// memory and lying lengths each end that VM with a PANIC naming it, and the next VM serves; the
// VMM, once its VM runs, is under seccomp with no_new_privs, holds no file it does not need, dies by
// SIGSYS when it tries to exec, open, make a socket or trace its parent, hits its own memory limit
// with ENOMEM, and with --snapshot-dir is kept out of everything but that directory by Landlock.
// Each check is a vitest test of its own (test-support/native-results.ts). Runs wherever the ptrace
// backend does (no KVM needed); the same probe-guest letters run on real KVM in kvm-scenarios.test.ts.
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { backendsUnderTest, describeEachBackend } from './test-support/backends.js';
import { declareNativeResults, runNativeSuite, type NativeRun } from './test-support/native-results.js';

const vmmDir = fileURLToPath(new URL('..', import.meta.url));
const probeElf = `${vmmDir}build/native-test/probe_guest.elf`;
const ptraceRuns = backendsUnderTest().some((b) => b.backend === 'ptrace' && b.runs);

let make: NativeRun | undefined;
let run: NativeRun | undefined;
if (ptraceRuns) {
  make = await runNativeSuite('make', ['-s', '-C', 'native/test', `BUILD=${vmmDir}build/native-test`, probeElf], { cwd: vmmDir });
  if (make.status === 0) {
    run = await runNativeSuite(process.execPath, ['native/test/ptrace_scenarios.mjs'], { cwd: vmmDir, env: { ...process.env, FN_PROBE_GUEST_ELF: probeElf } });
  }
}

describeEachBackend('ptrace VMM: hostile guest and lockdown scenarios', () => {
  it('builds the probe guest', () => {
    expect(make?.status, make?.output).toBe(0);
  });
  if (!run) return;
  declareNativeResults(run, (r) => r.name, ['ptrace']);
  it('runs every scenario (at least 25) to its end', () => {
    expect(run!.results.length, run!.output.slice(-4000)).toBeGreaterThanOrEqual(25);
    expect(run!.status, run!.output.slice(-4000)).toBe(0);
  });
}, ['ptrace']);
