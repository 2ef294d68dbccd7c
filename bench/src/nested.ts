/**
 * Whether this process runs inside the nested KVM machine of scripts/with-kvm (QEMU's TCG emulating
 * the CPU, KVM inside it). Its /dev/kvm is real, so the benchmarks run, but guest and host code run
 * 10-50x slower than native and unevenly: figures taken there are not performance figures and
 * must never be read as such.
 */
import { readFileSync } from 'node:fs';

export function insideNestedKvm(): boolean {
  if (process.env.FN_KVM_NESTED === '1') return true;
  try {
    return /^model name\s*:\s*QEMU TCG/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export const NESTED_WARNING =
  'inside the nested KVM machine (QEMU TCG): timings there are NOT representative of KVM or of fn; they only show that the path works';

/** The backend as a report names it: "kvm-nested" for KVM inside the emulated machine. */
export function reportedBackend(backend: string): string {
  return backend === 'kvm' && insideNestedKvm() ? 'kvm-nested' : backend;
}
