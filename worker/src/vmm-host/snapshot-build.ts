/**
 * The part of a deploy that runs tenant code: restore the base snapshot, load the function's
 * bundle (its module init runs here), snapshot the pages that differ from the base into `scratch`.
 * On KVM it runs inside the deploy host (deploy-host.ts: a locked-down process that may write only
 * beneath its scratch directory); on ptrace in the worker, whose VMM child is confined itself
 * (ptrace-vmm --snapshot-dir). What it produced is archived into the store by the worker.
 */
import { MicroVM, type VmSnapshot } from '@fn/vmm';

export interface SnapshotBuildRequest {
  base: VmSnapshot;
  bundle: string;
  name: string;
  env: Record<string, string>;
  /** The init's own budget (Deployer.initTimeoutMs). */
  initTimeoutMs: number;
  /** An empty directory the snapshot files go to. */
  scratch: string;
}

export interface SnapshotBuildResult {
  /** Where the snapshot files are (beneath `scratch`). */
  dir: string;
  diffPages: number;
  /** Restore plus load, ms (the worker's 'deploy' VM-creation series). */
  createMs: number;
}

/** Errors are the VM's own (GuestLoadError, GuestTimeoutError, …); an abort closes the VM at once. */
export async function buildSnapshot(request: SnapshotBuildRequest, signal?: AbortSignal): Promise<SnapshotBuildResult> {
  const creating = performance.now();
  const vm = await MicroVM.restore(request.base, { timeoutMs: request.initTimeoutMs, snapshotDir: request.scratch });
  const stop = () => vm.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted) throw new Error('the deploy was cancelled');
    await vm.load(request.bundle, { name: request.name, env: request.env });
    const createMs = performance.now() - creating;
    if (signal?.aborted) throw new Error('the deploy was cancelled');
    const snap = await vm.snapshot(request.scratch, { base: request.base });
    return { dir: snap.dir, diffPages: snap.diffPages, createMs };
  } finally {
    signal?.removeEventListener('abort', stop);
    vm.close();
  }
}
