// The native core's own test suites (vmm/native/test/run.sh): C++ unit tests under ASan+UBSan for
// the ELF loader, page tables, GDT/TSS/I/O bitmap, window validation, the exit loop and the
// watchdog; the N-API surface; the whole addon against a fake /dev/kvm; and, where /dev/kvm is
// usable, real guest scenarios (faults, stray syscalls, bad ports, timeouts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const vmmDir = fileURLToPath(new URL('..', import.meta.url));

describe('native core test suites', () => {
  // Generous: a clean ASan build of the native tests takes minutes on a loaded 2-core machine.
  it('pass', { timeout: 480_000 }, () => {
    const r = spawnSync('bash', ['native/test/run.sh'], { cwd: vmmDir, encoding: 'utf8' });
    const out = `${r.stdout}\n${r.stderr}`;
    const summaries = [...out.matchAll(/(\d+) passed, (\d+) failed/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(out, out.slice(-4000)).not.toMatch(/addon tests skipped/);
    expect(r.status, out.slice(-4000)).toBe(0);
    expect(summaries.length).toBeGreaterThanOrEqual(3);
    for (const [passed, failed] of summaries) {
      expect(failed).toBe(0);
      expect(passed).toBeGreaterThan(0);
    }
  });
});
