/**
 * One error class per failure kind. Every message says what happened and what to do about it;
 * `cause` keeps the underlying error. Only the gateway maps these to HTTP status codes.
 *
 * The failures of an invocation extend the invocation contract's classes (@fn/contract), so they
 * carry their kind (timeout, out_of_memory, crashed, too_large, unavailable) across every hop.
 */
import { CrashedError, InvocationTimeoutError, OutOfMemoryError, TooLargeError, UnavailableError } from '@fn/contract';

export class FnVmError extends Error {
  override name = 'FnVmError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** /dev/kvm is missing, not accessible, or not a usable KVM. */
export class KvmUnavailableError extends UnavailableError {
  override name = 'KvmUnavailableError';
  constructor(
    readonly code: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${detail} — ${kvmFix(code)}`, options);
  }
}

function kvmFix(code: string): string {
  switch (code) {
    case 'ENOENT':
    case 'ENODEV':
      return 'load kvm_intel/kvm_amd (or kvm_pvm) or run on a host with KVM; for development without VM isolation use the process sandbox (FN_BACKEND=process)';
    case 'EACCES':
    case 'EPERM':
      return 'add your user to the kvm group (sudo usermod -aG kvm $USER, then log in again) or run as root';
    default:
      return 'check that /dev/kvm is a working KVM device (KVM API version 12)';
  }
}

/** The function module failed to compile or threw while it was being evaluated (its init). */
export class GuestLoadError extends FnVmError {
  override name = 'GuestLoadError';
  constructor(
    readonly jsName: string,
    readonly jsMessage: string,
    readonly jsStack: string,
  ) {
    super(`the function failed to load: ${jsName}: ${jsMessage} — fix the function's module (its top-level code must not throw)`);
  }
}

/** The guest ran past its time limit and was stopped. The VM is gone; boot a new one. */
export class GuestTimeoutError extends InvocationTimeoutError {
  override name = 'GuestTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`the function ran longer than its ${timeoutMs} ms timeout and was stopped — make it faster or raise timeoutMs`);
  }
}

/** The guest exhausted its memory (guest RAM is the function's memory limit). */
export class GuestOutOfMemoryError extends OutOfMemoryError {
  override name = 'GuestOutOfMemoryError';
  constructor(
    readonly memoryMiB: number,
    readonly detail: string,
  ) {
    super(`the function ran out of its ${memoryMiB} MiB of memory (${detail}) — use less memory or raise memoryMiB`);
  }
}

/**
 * The guest did something no correct runtime does: a CPU fault, a system call, a halt, a malformed
 * window, a crash of its sandbox process. The VM is gone; the host is unaffected.
 */
export class GuestCrashedError extends CrashedError {
  override name = 'GuestCrashedError';
  constructor(
    /** How it crashed: panic, bad_output, bad_window, syscall, crash, protocol, … */
    readonly reason: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`the microVM stopped (${reason}): ${detail} — this is a bug in the guest runtime or a hostile function; the VM was discarded`, options);
  }
}

/** The request or bundle handed to the VM is not acceptable (validated before it reaches the guest). */
export class InvalidInputError extends FnVmError {
  override name = 'InvalidInputError';
}

/** The request or bundle does not fit the window (6 MB synchronous payload limit). */
export class PayloadTooLargeError extends TooLargeError {
  override name = 'PayloadTooLargeError';
  constructor(
    what: 'request' | 'bundle',
    readonly bytes: number,
    limit: number,
  ) {
    super(what, limit, `the ${what} is ${bytes} bytes, over the ${limit}-byte limit — send less data`);
  }
}

/** The VM was closed (by the caller, or after a fatal error). */
export class VmClosedError extends FnVmError {
  override name = 'VmClosedError';
  constructor(reason: string) {
    super(`the microVM is closed (${reason}) — boot a new one`);
  }
}

/** A second call arrived while the VM was busy: one VM runs one invocation at a time. */
export class VmBusyError extends FnVmError {
  override name = 'VmBusyError';
  constructor() {
    super('the microVM is busy with another call — await the previous call, or use one VM per concurrent invocation');
  }
}

/** A snapshot could not be taken, restored or reset to (bad files, unsupported backend). */
export class VmSnapshotError extends FnVmError {
  override name = 'VmSnapshotError';
}
