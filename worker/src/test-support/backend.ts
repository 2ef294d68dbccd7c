/**
 * The snapshot backend these tests run on: KVM wherever /dev/kvm exists (and then it must run,
 * never be skipped), otherwise the ptrace stand-in VMM where it can map guest memory (root or
 * vm.mmap_min_addr <= 4096). Only where neither exists is a block skipped, and its name says why.
 */
import { describe } from 'vitest';
import { kvmDevicePresent, ptraceUsable } from '@fn/vmm';

export type SnapshotBackend = 'kvm' | 'ptrace';

export function snapshotBackend(): SnapshotBackend | undefined {
  if (kvmDevicePresent() || process.env.FN_REQUIRE_KVM === '1') return 'kvm';
  if (ptraceUsable() || process.env.FN_REQUIRE_PTRACE === '1') return 'ptrace';
  return undefined;
}

/** describe() on the best snapshot backend here, or a visibly skipped block. */
export function describeWithSnapshots(title: string, body: (backend: SnapshotBackend) => void): void {
  const backend = snapshotBackend();
  if (backend) describe(`${title} [${backend}]`, () => body(backend));
  else describe.skip(`${title} (skipped: no /dev/kvm and the ptrace VMM cannot map low guest pages here)`, () => {});
}
