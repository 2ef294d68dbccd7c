/**
 * What the worker's pools need of a place that holds VMs: a VMM host process (host-client.ts,
 * the default) or this process itself (local-host.ts, for backends whose every VM is a process of
 * its own already).
 */
import type { VmRequest, VmResult } from '@fn/contract';
import type { VmSnapshot } from '@fn/vmm';
import type { HostStats, RestoreResult } from './protocol.js';

export interface VmHost {
  /** Stable name for metrics and logs (pids are reused). */
  readonly id: string;
  readonly pid: number;
  readonly alive: boolean;
  /** Calls waiting for an answer (invocations and restores in flight). */
  readonly inFlight: number;
  /** VMs held plus VMs being restored: what placement balances. */
  readonly load: number;
  readonly vmCount: number;
  /** False once the VM is closed, lost, or its host is dead. */
  holds(vmId: string): boolean;
  /** Held and done resetting: an invocation sent to it starts at once. */
  isReady(vmId: string): boolean;
  /** Called once if the host dies, with the error its calls failed with. */
  onCrash(listener: (err: Error) => void): void;
  /** Called with a vmId the host dropped on its own (its reset failed). */
  onVmLost(listener: (vmId: string) => void): void;
  /** Called each time a VM is back at its snapshot after an invocation, with how long that took. */
  onVmReset(listener: (resetMs: number) => void): void;
  restore(snapshot: VmSnapshot, timeoutMs: number): Promise<RestoreResult>;
  /** Runs one invocation; the result's timings include the host's own (`host`). */
  invoke(vmId: string, request: VmRequest, timeoutMs: number): Promise<VmResult>;
  close(vmId: string): Promise<boolean>;
  stats(): Promise<HostStats>;
  shutdown(graceMs?: number): Promise<void>;
}
