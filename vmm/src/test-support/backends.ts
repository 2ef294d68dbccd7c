/**
 * Which backends a test file runs against. The process sandbox always runs. KVM runs wherever
 * /dev/kvm exists, and there it must never be skipped: if the device is present but unusable the
 * KVM tests fail with the reason. Only on a machine with no /dev/kvm at all are they skipped, and
 * their names say so (.ci/run fails if /dev/kvm exists and any test was skipped).
 */
import { describe } from 'vitest';
import { kvmDevicePresent } from '../kvm-probe.js';
import { ptraceUsable } from '../platform-choice.js';
import type { Platform } from '../transport.js';

export interface BackendCase {
  backend: Platform;
  /** False only for KVM on a machine without /dev/kvm. */
  runs: boolean;
}

export function backendsUnderTest(): BackendCase[] {
  const kvmRequired = kvmDevicePresent() || process.env.FN_REQUIRE_KVM === '1';
  return [
    { backend: 'process', runs: true },
    // The ptrace stand-in must run wherever it can (root, or vm.mmap_min_addr <= 4096: CI here).
    { backend: 'ptrace', runs: ptraceUsable() || process.env.FN_REQUIRE_PTRACE === '1' },
    { backend: 'kvm', runs: kvmRequired },
  ];
}

/**
 * describe() once per backend (or per backend in `only`); a block is skipped, visibly, only where
 * its backend cannot exist on this machine.
 */
export function describeEachBackend(title: string, body: (backend: Platform) => void, only?: Platform[]): void {
  for (const { backend, runs } of backendsUnderTest()) {
    if (only && !only.includes(backend)) continue;
    const why = backend === 'kvm' ? 'no /dev/kvm on this machine' : 'ptrace-vmm cannot map low guest pages here (not root, vm.mmap_min_addr > 4096)';
    const name = `${title} [${backend}]${runs ? '' : ` (skipped: ${why})`}`;
    (runs ? describe : describe.skip)(name, () => body(backend));
  }
}

/** The backends with snapshots, restore and reset. */
export const SNAPSHOT_BACKENDS: Platform[] = ['kvm', 'ptrace'];
