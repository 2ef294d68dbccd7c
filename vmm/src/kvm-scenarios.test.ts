// The native core's scenarios on a real KVM (vmm/native/test/kvm_scenarios.cjs): the probe guest
// drives every exit path (page protections, NX, the I/O bitmap, a stray syscall, faults caught by
// the guest's IDT, the stack guard page), the exchange rules, snapshot / restore / reset and the
// real guest booting to READY. Each scenario is a vitest test of its own (test-support/native-results.ts).
// Where there is no /dev/kvm this block is skipped here and runs inside the nested machine
// (scripts/run-tests → scripts/with-kvm scripts/test-kvm); the scenarios run once, while this file
// is collected, and only where the block runs.
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { backendsUnderTest, describeEachBackend } from './test-support/backends.js';
import { declareNativeResults, runNativeSuite, type NativeRun } from './test-support/native-results.js';

const vmmDir = fileURLToPath(new URL('..', import.meta.url));
const probeElf = `${vmmDir}build/native-test/probe_guest.elf`;
const kvmRuns = backendsUnderTest().some((b) => b.backend === 'kvm' && b.runs);

let make: NativeRun | undefined;
let run: NativeRun | undefined;
if (kvmRuns) {
  make = await runNativeSuite('make', ['-s', '-C', 'native/test', `BUILD=${vmmDir}build/native-test`, probeElf], { cwd: vmmDir });
  if (make.status === 0) {
    run = await runNativeSuite(process.execPath, ['native/test/kvm_scenarios.cjs'], { cwd: vmmDir, env: { ...process.env, FN_PROBE_GUEST_ELF: probeElf } });
  }
}

describeEachBackend('native core scenarios on real KVM', () => {
  it('builds the probe guest', () => {
    expect(make?.status, make?.output).toBe(0);
  });
  if (!run) return;
  declareNativeResults(run, (r) => r.name, ['kvm']);
  it('runs every scenario (at least 40)', () => {
    expect(run!.results.length, run!.output.slice(-4000)).toBeGreaterThanOrEqual(40);
  });
}, ['kvm']);
