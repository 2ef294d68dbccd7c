/**
 * Which backends a test file runs against. The process sandbox always runs. KVM runs wherever
 * /dev/kvm exists, and there it must never be skipped: if the device is present but unusable the
 * KVM tests fail with the reason. Only on a machine with no /dev/kvm at all are they skipped, and
 * their names say so (.ci/run fails if /dev/kvm exists and any test was skipped).
 */
import { describe } from 'vitest';
import { kvmDevicePresent } from '../kvm-probe.js';
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
    { backend: 'kvm', runs: kvmRequired },
  ];
}

/** describe() once per backend; the KVM block is skipped (visibly) only where /dev/kvm is absent. */
export function describeEachBackend(title: string, body: (backend: Platform) => void): void {
  for (const { backend, runs } of backendsUnderTest()) {
    const name = `${title} [${backend}]${runs ? '' : ' (skipped: no /dev/kvm on this machine)'}`;
    (runs ? describe : describe.skip)(name, () => body(backend));
  }
}
