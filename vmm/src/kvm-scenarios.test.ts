// The native core's scenarios on a real KVM (vmm/native/test/kvm_scenarios.cjs): the probe guest
// drives every exit path (page protections, NX, the I/O bitmap, a stray syscall, faults caught by
// the guest's IDT, the stack guard page), the exchange rules, snapshot / restore / reset and the
// real guest booting to READY. Where there is no /dev/kvm this block is skipped here and runs inside
// the nested machine (scripts/run-tests → scripts/with-kvm scripts/test-kvm).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeEachBackend } from './test-support/backends.js';
import { scaledTimeout } from './test-support/time-scale.js';

const vmmDir = fileURLToPath(new URL('..', import.meta.url));
const probeElf = `${vmmDir}build/native-test/probe_guest.elf`;

describeEachBackend(
  'native core scenarios on real KVM',
  () => {
    it('every scenario passes', { timeout: scaledTimeout(180_000) }, () => {
      const make = spawnSync('make', ['-s', '-C', 'native/test', `BUILD=${vmmDir}build/native-test`, probeElf], { cwd: vmmDir, encoding: 'utf8' });
      expect(make.status, `${make.stdout}\n${make.stderr}`).toBe(0);
      const r = spawnSync(process.execPath, ['native/test/kvm_scenarios.cjs'], {
        cwd: vmmDir,
        encoding: 'utf8',
        env: { ...process.env, FN_PROBE_GUEST_ELF: probeElf },
      });
      const out = `${r.stdout}\n${r.stderr}`;
      const failures = out.split('\n').filter((line) => line.startsWith('FAIL '));
      const summary = /^kvm: (\d+) passed, (\d+) failed$/m.exec(out);
      expect(summary, out.slice(-4000)).not.toBeNull();
      expect(failures, out.slice(-6000)).toEqual([]);
      expect(Number(summary![2])).toBe(0);
      expect(Number(summary![1])).toBeGreaterThanOrEqual(40);
      expect(r.status, out.slice(-4000)).toBe(0);
    });
  },
  ['kvm'],
);
