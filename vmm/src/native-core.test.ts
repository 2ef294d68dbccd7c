// The native core's own test suites (vmm/native/test/run.sh): C++ unit tests under ASan+UBSan for
// the ELF loader, page tables, GDT/TSS/I/O bitmap, window validation, the exit loop, the watchdog
// and the snapshot files (golden files included); the N-API surface; and the whole addon against a
// fake /dev/kvm. The real-KVM scenarios, which run.sh adds where /dev/kvm is usable, have their own
// file (kvm-scenarios.test.ts), so they are left out here. Each native test is a vitest test of its
// own (see test-support/native-results.ts); run.sh runs once, while this file is collected.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declareNativeResults, runNativeSuite } from './test-support/native-results.js';

const vmmDir = fileURLToPath(new URL('..', import.meta.url));
const run = await runNativeSuite('bash', ['native/test/run.sh'], { cwd: vmmDir, env: { ...process.env, FN_SKIP_KVM_SCENARIOS: '1' } });

describe('native core test suites', () => {
  it('runs the addon tests (the addon is built)', () => {
    expect(run.output, run.output.slice(-4000)).not.toMatch(/addon tests skipped/);
  });
  declareNativeResults(run, (r) => `${r.suite}: ${r.name}`, ['native', 'addon', 'fake-kvm-lifecycle', 'fake-kvm']);
});
