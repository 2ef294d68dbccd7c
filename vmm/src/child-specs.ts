/** The command lines of the two child-process backends (see process-transport.ts). */
import { guestElfPath, guestProcessPath } from '@fn/guest';
import type { ChildSpec } from './process-transport.js';
import { ptraceVmmPath } from './ptrace-vmm.js';

export interface RestoreFiles {
  /** Directory holding cpu.bin, memory.img and pages.bin. */
  dir: string;
  /** The base layer's memory.img when the snapshot is a diff over a base. */
  baseMemoryPath?: string | undefined;
}

export function processSandboxSpec(memoryMiB: number): ChildSpec {
  return { platform: 'process', path: guestProcessPath, args: ['--memory-mib', String(memoryMiB)] };
}

/**
 * ptrace-vmm's command line. A restored VMM is sealed once its VM runs (it can open no file, start
 * no process: vmm/native/ptrace/lockdown.c) unless `snapshotDir` names the one directory beneath
 * which it may still write snapshots.
 */
export function ptraceSpec(memoryMiB: number, restore?: RestoreFiles, snapshotDir?: string): ChildSpec {
  const args = [guestElfPath, '--memory-mib', String(memoryMiB)];
  if (restore) {
    args.push('--restore', restore.dir);
    if (restore.baseMemoryPath) args.push('--base', restore.baseMemoryPath);
  }
  if (snapshotDir !== undefined) args.push('--snapshot-dir', snapshotDir);
  return { platform: 'ptrace', path: ptraceVmmPath, args, restoring: restore !== undefined };
}
