/**
 * VMs held in the worker's own process, with no VMM host process between. For the ptrace stand-in
 * (and the process sandbox), where every VM already is a process of its own: a host process
 * would add nothing a VM process does not already give — a VM's crash costs only that VM, and
 * there are no per-process KVM costs to spread — but it would add an IPC round trip to every
 * invocation. KVM VMs live in the process that holds them, so they keep their host processes.
 */
import type { VmRequest, VmResult } from '@fn/contract';
import type { VmSnapshot } from '@fn/vmm';
import type { HostStats, RestoreResult } from './protocol.js';
import { VmHolder } from './vm-holder.js';
import { logHostInvocation } from './host-log.js';
import { rootLogger } from '@fn/telemetry';
import type { VmHost } from './vm-host.js';

let nextLocalId = 1;

export class LocalHost implements VmHost {
  readonly id = `local-${nextLocalId++}`;
  readonly pid = process.pid;
  private readonly holder: VmHolder;
  private readonly resetting = new Set<string>();
  private readonly lostListeners: ((vmId: string) => void)[] = [];
  private readonly resetListeners: ((resetMs: number) => void)[] = [];
  private restoring = 0;
  private calls = 0;
  private stopped = false;
  /** The same lines as a VMM host process writes, from the worker's process. */
  private readonly log = rootLogger().child({ process: 'vmm-host', host: 'in-process' });

  constructor() {
    this.holder = new VmHolder({
      ready: (vmId, resetMs) => {
        this.resetting.delete(vmId);
        for (const listener of this.resetListeners) listener(resetMs);
      },
      lost: (vmId) => {
        this.resetting.delete(vmId);
        for (const listener of this.lostListeners) listener(vmId);
      },
    });
  }

  get alive(): boolean {
    return !this.stopped;
  }

  get inFlight(): number {
    return this.calls;
  }

  get load(): number {
    return this.holder.size + this.restoring;
  }

  get vmCount(): number {
    return this.holder.size;
  }

  holds(vmId: string): boolean {
    return this.alive && this.holder.has(vmId);
  }

  isReady(vmId: string): boolean {
    return this.holds(vmId) && !this.resetting.has(vmId);
  }

  /** This process does not crash without taking the worker with it: never called. */
  onCrash(): void {}

  onVmReset(listener: (resetMs: number) => void): void {
    this.resetListeners.push(listener);
  }

  onVmLost(listener: (vmId: string) => void): void {
    this.lostListeners.push(listener);
  }

  async restore(snapshot: VmSnapshot, timeoutMs: number): Promise<RestoreResult> {
    this.restoring++;
    this.calls++;
    try {
      return await this.holder.restore(snapshot, timeoutMs);
    } finally {
      this.restoring--;
      this.calls--;
    }
  }

  /** The VM enforces the function's timeout itself (its transport's watchdog): no second timer. */
  async invoke(vmId: string, request: VmRequest): Promise<VmResult> {
    const started = performance.now();
    this.resetting.add(vmId);
    this.calls++;
    try {
      const result = await this.holder.invoke(vmId, request);
      result.timings.host = performance.now() - started;
      logHostInvocation(this.log, vmId, request, result.timings.host);
      return result;
    } catch (err) {
      logHostInvocation(this.log, vmId, request, performance.now() - started, err);
      throw err;
    } finally {
      this.calls--;
      if (!this.holder.has(vmId)) this.resetting.delete(vmId);
    }
  }

  async close(vmId: string): Promise<boolean> {
    this.resetting.delete(vmId);
    return this.holder.close(vmId);
  }

  async stats(): Promise<HostStats> {
    return this.holder.stats();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.holder.closeAll();
  }
}
