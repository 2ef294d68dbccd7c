// The native core's own test suites (vmm/native/test/run.sh): C++ unit tests under ASan+UBSan for
// the ELF loader, page tables, GDT/TSS/I/O bitmap, window validation, the exit loop, the watchdog
// and the snapshot files (golden files included); the N-API surface; the whole addon against a fake
// /dev/kvm; and, where /dev/kvm is usable, the real-KVM scenarios (named "[kvm]"). Each native test
// is a vitest test of its own (see test-support/native-results.ts); run.sh runs once, while this
// file is collected.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declareNativeResults, runNativeSuite } from './test-support/native-results.js';

const vmmDir = fileURLToPath(new URL('..', import.meta.url));
const run = await runNativeSuite('bash', ['native/test/run.sh'], { cwd: vmmDir });
const kvmRan = run.summaries.some((s) => s.label === 'kvm');

describe('native core test suites', () => {
  it('runs the addon tests (the addon is built)', () => {
    expect(run.output, run.output.slice(-4000)).not.toMatch(/addon tests skipped/);
  });
  declareNativeResults(run, (r) => `${r.suite}: ${r.name}${r.suite === 'kvm' ? ' [kvm]' : ''}`, [
    'native',
    'addon',
    'fake-kvm-lifecycle',
    'fake-kvm',
    ...(kvmRan ? ['kvm'] : []),
  ]);
});
