/**
 * Which backend `auto` means on this machine: a KVM microVM where /dev/kvm is usable; otherwise the
 * ptrace stand-in VMM (same guest ELF, snapshots work) where this process may map the guest's low
 * pages; otherwise the seccomp process sandbox.
 */
import { existsSync, readFileSync } from 'node:fs';
import { probeKvm } from './kvm-probe.js';
import { ptraceVmmPath } from './ptrace-vmm.js';
import type { Platform } from './transport.js';

export type Backend = Platform | 'auto';

export function choosePlatform(backend: Backend): Platform {
  if (backend !== 'auto') return backend;
  if (probeKvm().ok) return 'kvm';
  return ptraceUsable() ? 'ptrace' : 'process';
}

/** ptrace-vmm maps guest RAM from 0x1000 up: allowed to root, or where vm.mmap_min_addr permits. */
export function ptraceUsable(): boolean {
  if (!existsSync(ptraceVmmPath)) return false;
  if (process.getuid?.() === 0) return true;
  try {
    return Number(readFileSync('/proc/sys/vm/mmap_min_addr', 'utf8').trim()) <= 0x1000;
  } catch {
    return false;
  }
}
