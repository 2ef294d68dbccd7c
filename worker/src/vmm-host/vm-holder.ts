/**
 * What a VMM host does, without any channel: holds MicroVMs (any backend) by vmId; restores,
 * invokes, closes; says when a VM's reset after an invocation is done (ready) or failed (lost).
 * host-server.ts puts it behind the IPC channel of a VMM host process; local-host.ts uses it
 * directly where VMs need no host process of their own.
 */
import type { VmRequest, VmResult } from '@fn/contract';
import { MicroVM, type VmSnapshot } from '@fn/vmm';
import { VmLostError } from '../errors.js';
import { hostRssKiB } from './process-memory.js';
import type { HostStats, RestoreResult } from './protocol.js';

export interface HolderEvents {
  /** The VM's reset after its last invocation finished: the next one starts at once. */
  ready(vmId: string, resetMs: number): void;
  /** The VM died on its own after its last invocation (its reset failed). */
  lost(vmId: string, reason: string): void;
}

export class VmHolder {
  private readonly vms = new Map<string, MicroVM>();
  private nextVm = 1;
  private closing = false;

  constructor(private readonly events: HolderEvents) {}

  has(vmId: string): boolean {
    return this.vms.has(vmId);
  }

  get size(): number {
    return this.vms.size;
  }

  async restore(snapshot: VmSnapshot, timeoutMs: number): Promise<RestoreResult> {
    const vm = await MicroVM.restore(snapshot, { timeoutMs });
    if (this.closing) {
      vm.close();
      throw new VmLostError('the VMM host is shutting down — the restored VM was closed');
    }
    const vmId = `vm-${this.nextVm++}`;
    this.vms.set(vmId, vm);
    return { vmId, pid: vm.hostPid, platform: vm.platform, restoreMs: vm.bootMs };
  }

  /**
   * Runs one invocation. A VmLostError means it never started (the VM is gone); after any other
   * error has() says whether the VM survived it (timeouts, OOM and crashes close it; a bad
   * response does not). The result's timings say how long the VM round trip and the guest took.
   */
  async invoke(vmId: string, request: VmRequest): Promise<VmResult> {
    const vm = this.vms.get(vmId);
    // The previous invocation's reset may still be running; a VM whose reset failed is closed.
    await vm?.settled();
    if (!vm || vm.closed) {
      this.vms.delete(vmId);
      throw new VmLostError(`microVM ${vmId} is no longer on this host (closed, or its reset failed) — the invocation did not start; retry it on another VM`);
    }
    try {
      const { response, logs, error, timings } = await vm.execute(request);
      return { response, logs, ...(error ? { error } : {}), timings: { vm: timings.totalUs / 1000, guest: timings.guestUs / 1000 } };
    } finally {
      // A timeout, OOM or crash closes the MicroVM: forget it so it is never used again.
      if (vm.closed) this.vms.delete(vmId);
      else this.watchReset(vmId, vm, performance.now());
    }
  }

  close(vmId: string): boolean {
    const vm = this.vms.get(vmId);
    vm?.close();
    return this.vms.delete(vmId);
  }

  stats(): HostStats {
    return { pid: process.pid, vms: this.vms.size, rssKiB: hostRssKiB([...this.vms.values()].map((vm) => vm.hostPid)) };
  }

  /** Closes every VM (the worker went away, or asked the host to stop). */
  closeAll(): void {
    this.closing = true;
    for (const vm of this.vms.values()) vm.close();
    this.vms.clear();
  }

  /** The reset after an invocation runs off the reply path; its outcome is an event. */
  private watchReset(vmId: string, vm: MicroVM, answeredAt: number): void {
    void vm.settled().then(() => {
      if (this.vms.get(vmId) !== vm || this.closing) return;
      if (!vm.closed) {
        // From the answer to the VM being back at its snapshot: the reset's cost (metrics).
        this.events.ready(vmId, performance.now() - answeredAt);
        return;
      }
      this.vms.delete(vmId);
      this.events.lost(vmId, 'its reset to the snapshot failed after an invocation');
    });
  }
}
