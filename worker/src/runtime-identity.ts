/**
 * Which build of the runtime a base snapshot was made by. A base snapshot holds memory that two
 * programs wrote: the guest ELF (QuickJS, fn's runtime and its prelude, compiled in) and the VMM
 * that laid out the page tables, GDT, TSS and IDT before the guest ran. After an upgrade of either,
 * new deploys must start from a new base, or they would restore the old runtime; so the base's
 * store ref names this identity (versions already deployed keep the base they were made from).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { guestElfPath } from '@fn/guest';
import { nativeAddonPath, ptraceVmmPath } from '@fn/vmm';

/** A short digest of the files' contents, in order. */
export function digestOfFiles(paths: readonly string[]): string {
  const hash = createHash('sha256');
  for (const path of paths) {
    hash.update(path.length.toString() + ':');
    hash.update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The identity of the guest and the VMM a platform's base snapshots come from. */
export function runtimeIdentity(platform: 'kvm' | 'ptrace'): string {
  return digestOfFiles([guestElfPath, platform === 'kvm' ? nativeAddonPath : ptraceVmmPath]);
}
