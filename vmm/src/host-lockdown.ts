/**
 * The lockdown of a VMM host process that holds KVM VMs (vmm/native/host_lockdown.h): once the host
 * is set up, a guest that took it over can no longer run programs, start processes, open sockets,
 * trace or signal other processes, write, create or delete files, or grow its private memory past
 * a limit. Called by the worker's host process (worker/src/vmm-host/host-main.ts) before its first
 * VM; irreversible for the process. Only for KVM: the ptrace backend's VMM is a C program that
 * locks itself down (vmm/native/ptrace/lockdown.c).
 */
import { readFileSync } from 'node:fs';
import { loadNative } from './native.js';

export interface HostLockdown {
  seccomp: boolean;
  /** RLIMIT_DATA now in force, bytes (0: unchanged). */
  dataLimitBytes: number;
}

/** Private writable memory of this process now (VmData), bytes. */
export function dataBytesNow(): number {
  const kib = /VmData:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kib ?? 0) * 1024;
}

/**
 * Locks this process down. `memoryMiB`: how much more private memory (guest RAM mappings, buffers)
 * it may take beyond what it holds now; undefined leaves RLIMIT_DATA alone.
 */
export function lockDownKvmHost(options: { memoryMiB?: number | undefined; allowFileWrites?: boolean } = {}): HostLockdown {
  const { memoryMiB, allowFileWrites = false } = options;
  if (memoryMiB !== undefined && (!Number.isInteger(memoryMiB) || memoryMiB < 1))
    throw new RangeError(`the VMM host memory limit must be a whole number of MiB, not ${memoryMiB}`);
  const dataLimitBytes = memoryMiB === undefined ? undefined : dataBytesNow() + memoryMiB * 1024 * 1024;
  // allowFileWrites: the deploy host (worker/src/vmm-host/deploy-host.ts), confined by Landlock to
  // its scratch directory; the filter then lets it create and write files (it cannot see paths).
  return loadNative().lockDownHost({ ...(dataLimitBytes === undefined ? {} : { dataLimitBytes }), allowFileWrites });
}

/** Test-only (FN_VMM_TEST_HOOKS=1 hosts): tries `what` from inside the host, answers the errno name. */
export function lockdownProbe(what: string, path = ''): string {
  return loadNative().lockdownProbe(what, path);
}
