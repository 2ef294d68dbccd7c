/**
 * A transport moves one command into a guest and brings back what the guest answered at its next
 * doorbell. Two implementations share this contract: the KVM microVM (native, vmm/native) and the
 * process sandbox (the same guest runtime in a seccomp-strict Linux process, for machines without
 * KVM). MicroVM holds the policy; transports only move bytes and enforce the time limit.
 */
import type { GuestCommand, GuestEvent, GuestStatus } from './abi.js';

export type Platform = 'kvm' | 'process';

export interface ExchangeRequest {
  command: GuestCommand;
  /** Bytes for the window data area; already validated to fit. */
  input: Buffer | null;
  /** Wall-clock budget for this command, including any timer sleeps the guest asks for. */
  timeoutMs: number;
}

export interface ExchangeResult {
  event: GuestEvent;
  status: number;
  /** A copy of the window data the guest wrote, already bounds-checked. */
  output: Buffer;
  guestNs: bigint;
  heapUsed: bigint;
  heapPeak: bigint;
}

export interface GuestTransport {
  readonly platform: Platform;
  /** The host process whose memory holds this guest: the sandbox child, or this process for KVM. */
  readonly hostPid: number;
  /**
   * Runs the guest until its next doorbell (READY, DONE or PANIC). Rejects with GuestTimeoutError,
   * GuestCrashedError or VmClosedError; after a rejection the transport is dead.
   */
  exchange(request: ExchangeRequest): Promise<ExchangeResult>;
  /** Idempotent; stops a running guest. */
  close(): void;
}

export type { GuestStatus };
