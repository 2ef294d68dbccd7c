/**
 * What a KVM VMM host process may read (fn-landlock-exec, vmm/native/ptrace/landlock_exec.c):
 * everything but the data directory, plus what it restores VMs from inside it: the laid-out
 * snapshots (<data>/work) and the snapshot store's content-addressed blobs (<data>/snapshots/blobs:
 * a laid-out diff names its base there, and memory.img may be a link to one). Not the registry
 * database, not secrets.key, not the store's refs. Landlock can only add
 * what is allowed, so "everything but" is spelled out: at each level from / down to the data
 * directory, every entry beside the way there. Entries created later at those levels are not
 * readable; the host needs none of them (its code and Node were there before it started, its
 * snapshots are laid out under <data>/work).
 */
import { mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, parse, relative, sep } from 'node:path';

export interface HostSandbox {
  /** Read (and execute) beneath each. */
  readable: string[];
  /** Read, write and ioctl. */
  devices: string[];
  /** Read, write, create and remove beneath each (the deploy host's scratch directory). */
  writable?: string[];
}

/** Beneath the data directory, where the deploy host writes the snapshots it builds. */
export function deployScratchRoot(dataDir: string): string {
  return join(dataDir, 'deploy-scratch');
}

/**
 * The deploy host's sandbox (deploy-host.ts): what an invocation host may read, and its scratch
 * directory writable. The worker archives what it writes there into the store itself.
 */
export function kvmDeployHostSandbox(dataDir: string): HostSandbox {
  const scratch = deployScratchRoot(dataDir);
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  return { ...kvmHostSandbox(dataDir), writable: [scratch] };
}

export function kvmHostSandbox(dataDir: string, inside = [join(dataDir, 'work'), join(dataDir, 'snapshots', 'blobs')]): HostSandbox {
  // A rule can only name a path that exists: the worker starts its hosts before the first deploy
  // has laid out anything, so the directories are made now (owner-only, like the data directory).
  for (const dir of inside) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hidden = realpathSync(dataDir);
  const root = parse(hidden).root;
  const readable: string[] = [];
  let at = root;
  for (const part of relative(root, hidden).split(sep).filter(Boolean)) {
    for (const entry of readdirSync(at)) if (entry !== part) readable.push(join(at, entry));
    at = join(at, part);
  }
  readable.push(...inside);
  return { readable: readable.filter((p) => dirname(p) !== p), devices: ['/dev/kvm'] };
}

/** fork() options that start the host through the launcher. */
export function launcherArgs(sandbox: HostSandbox, nodeExecArgv: string[]): string[] {
  return [
    ...sandbox.readable.flatMap((p) => ['--read', p]),
    ...(sandbox.writable ?? []).flatMap((p) => ['--write', p]),
    ...sandbox.devices.flatMap((d) => ['--device', d]),
    '--',
    process.execPath,
    ...nodeExecArgv,
  ];
}
