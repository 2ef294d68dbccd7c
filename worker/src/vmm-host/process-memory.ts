/**
 * Resident memory of a VMM host and the VM processes it holds, from /proc. With KVM the VMs live
 * in the host process itself; the stand-in backends run each VM as a child (and the ptrace VMM's
 * traced guest is that child's child), so those are added. RSS counts shared page-cache pages of
 * a snapshot once per process: a conservative figure, which is what a capacity report wants.
 */
import { readFileSync } from 'node:fs';

export function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // exited meanwhile
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** This process plus every distinct VM process (and its children) in `vmPids`. */
export function hostRssKiB(vmPids: Iterable<number>): number {
  let total = rssKiB(process.pid);
  for (const pid of new Set(vmPids)) {
    if (pid === process.pid || pid <= 0) continue;
    total += rssKiB(pid) + childrenOf(pid).reduce((sum, child) => sum + rssKiB(child), 0);
  }
  return total;
}
