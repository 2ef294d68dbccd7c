/**
 * A transport moves one command into a guest and brings back what the guest answered at its next
 * doorbell. Two implementations share this contract: the KVM microVM (native, vmm/native) and the
 * process sandbox (the same guest runtime in a seccomp-strict Linux process, for machines without
 * KVM). MicroVM holds the policy; transports only move bytes and enforce the time limit.
 */
import type { GuestCommand, GuestEvent, GuestStatus } from './abi.js';

/**
 * kvm: a KVM microVM (production). ptrace: the same guest ELF and memory layout in a traced Linux
 * process (no /dev/kvm needed; snapshots and resets work the same way). process: the runtime built
 * for Linux under seccomp strict mode (no snapshots).
 */
export type Platform = 'kvm' | 'ptrace' | 'process';

export interface ExchangeRequest {
  command: GuestCommand;
  /**
   * Bytes for the window data area, after the transport's inputHeadroom (bytes it may overwrite
   * with its own framing); already validated to fit.
   */
  input: Buffer | null;
  /** Wall-clock budget for this command, including any timer sleeps the guest asks for. */
  timeoutMs: number;
  /**
   * Reset the VM as soon as the guest answers DONE, without waiting to be asked (only where
   * resetsAfterExchange is true); awaitReset() then brings the outcome.
   */
  resetAfter?: boolean;
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
   * True when the guest (or its VMM) will signal READY before the first command: every fresh boot,
   * and a ptrace restore. A KVM restore is idle at its doorbell at once and sends nothing.
   */
  readonly announcesReady: boolean;
  /** Bytes at the front of every input that the transport owns (so it can frame without a copy). */
  readonly inputHeadroom: number;
  /**
   * Why the guest's process ended on its own while idle (killed from outside, its VMM's seccomp
   * filter, a crash), once the transport has seen it; undefined while it lives. KVM VMs live in this
   * process and never end on their own while idle.
   */
  readonly endedOnItsOwn?: string | undefined;
  /**
   * Runs the guest until its next doorbell (READY, DONE or PANIC). Rejects with GuestTimeoutError,
   * GuestCrashedError or VmClosedError; after a rejection the transport is dead.
   */
  exchange(request: ExchangeRequest): Promise<ExchangeResult>;
  /**
   * Writes the VM's state into `dir` (cpu.bin, memory.img, pages.bin; see
   * guest/include/fn_vmm_control.h). With a base memory.img only pages that differ are written.
   * Afterwards reset() returns the VM to this state. Undefined where the platform has no snapshots.
   */
  snapshot?(request: SnapshotRequest): Promise<SnapshotInfo>;
  /** Returns the VM to its last snapshot (taken or restored from): memory, registers, FPU. */
  reset?(): Promise<ResetInfo>;
  /**
   * The transport can reset the VM right after an exchange's DONE by itself (ExchangeRequest
   * resetAfter): the ptrace VMM does, so no RESET command (and no wake-up of the VMM) is needed.
   */
  readonly resetsAfterExchange?: boolean;
  /** The outcome of the reset an exchange with resetAfter started. */
  awaitReset?(): Promise<ResetInfo>;
  /** Idempotent; stops a running guest. */
  close(): void;
}

export interface SnapshotRequest {
  dir: string;
  baseMemoryPath?: string | undefined;
}

export interface SnapshotInfo {
  /** Non-zero pages of guest RAM. */
  pages: number;
  /** Pages that differ from the base (0 without a base). */
  diffPages: number;
  bytes: number;
  ms: number;
}

export interface ResetInfo {
  dirtyPages: number;
  us: number;
}

export type { GuestStatus };
