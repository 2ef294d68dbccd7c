/**
 * The KVM microVM transport: a thin adapter over the native NativeMicroVm, which owns the VM, its
 * vCPU thread and the watchdog. Maps the native error kinds onto fn's error classes.
 */
import { FnVmError, GuestCrashedError, GuestTimeoutError, KvmUnavailableError, VmBusyError, VmClosedError, VmSnapshotError } from './errors.js';
import { freshEntropy, nowUnixNs } from './host-inputs.js';
import { loadNative, type NativeError, type NativeMicroVm } from './native.js';
import type { ExchangeRequest, ExchangeResult, GuestTransport, ResetInfo, SnapshotInfo, SnapshotRequest } from './transport.js';

export class KvmTransport implements GuestTransport {
  readonly platform = 'kvm' as const;
  readonly hostPid = process.pid;
  readonly inputHeadroom = 0;

  private constructor(
    private readonly vm: NativeMicroVm,
    readonly announcesReady: boolean,
  ) {}

  /** A fresh VM on the guest ELF; it announces READY once the runtime is up. */
  static boot(guestElf: Buffer, memoryMiB: number): KvmTransport {
    const native = usableNative();
    try {
      return new KvmTransport(new native.NativeMicroVm({ memoryBytes: kvmMemoryBytes(memoryMiB), guestElf }), true);
    } catch (err) {
      throw creationError(err as NativeError);
    }
  }

  /** A VM from snapshot files (off the event loop); idle at its doorbell, so it announces nothing. */
  static restore(memoryMiB: number, files: { dir: string; baseMemoryPath?: string | undefined }): Promise<KvmTransport> {
    const native = usableNative();
    return new Promise((resolve, reject) => {
      const opts = { memoryBytes: kvmMemoryBytes(memoryMiB), dir: files.dir, ...(files.baseMemoryPath ? { baseMemoryPath: files.baseMemoryPath } : {}) };
      try {
        native.NativeMicroVm.restore(opts, (err, vm) => (err ? reject(creationError(err)) : resolve(new KvmTransport(vm!, false))));
      } catch (err) {
        reject(creationError(err as NativeError));
      }
    });
  }

  snapshot(request: SnapshotRequest): Promise<SnapshotInfo> {
    const req = { dir: request.dir, ...(request.baseMemoryPath ? { baseMemoryPath: request.baseMemoryPath } : {}) };
    return this.call<{ pages: number; diffPages?: number; bytes: number; ms: number }>((cb) => this.vm.snapshot(req, cb), 0).then((r) => ({
      pages: r.pages,
      diffPages: r.diffPages ?? 0,
      bytes: r.bytes,
      ms: r.ms,
    }));
  }

  reset(): Promise<ResetInfo> {
    return this.call<ResetInfo>((cb) => this.vm.reset(cb), 0).then((r) => ({ dirtyPages: r.dirtyPages, us: r.us }));
  }

  /** A native call that may throw synchronously or answer through its callback, mapped either way. */
  private call<T>(start: (cb: (err: NativeError | null, res?: T) => void) => void, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      try {
        start((err, res) => (err ? reject(mapNativeError(err, timeoutMs)) : resolve(res!)));
      } catch (err) {
        reject(mapNativeError(err as NativeError, timeoutMs));
      }
    });
  }

  exchange(request: ExchangeRequest): Promise<ExchangeResult> {
    // The native side throws synchronously (busy, closed, dead, bad_input) and otherwise answers
    // through the callback; both paths go through the same mapping.
    const req = { command: request.command, input: request.input, nowUnixNs: nowUnixNs(), entropy: freshEntropy(), timeoutMs: request.timeoutMs };
    return this.call<ExchangeResult>((cb) => this.vm.exchange(req, cb), request.timeoutMs);
  }

  close(): void {
    this.vm.close();
  }
}

/** KVM maps guest RAM in 2 MiB pages: the guest gets memoryMiB rounded up to the next 2 MiB. */
function kvmMemoryBytes(memoryMiB: number): number {
  return Math.ceil(memoryMiB / 2) * 2 * 1024 * 1024;
}

function usableNative() {
  const native = loadNative();
  const probe = native.probe();
  if (!probe.ok) throw new KvmUnavailableError(probe.code ?? 'EUNKNOWN', probe.message ?? '/dev/kvm is not usable');
  return native;
}

function creationError(e: NativeError): Error {
  if (e.code === 'KVM_UNAVAILABLE') return new KvmUnavailableError('EKVM', e.message, { cause: e });
  if (e.code === 'SNAPSHOT_ERROR') return new VmSnapshotError(`the snapshot could not be restored: ${e.message}`, { cause: e });
  return new FnVmError(`could not create the microVM: ${e.message}`, { cause: e });
}

function mapNativeError(err: NativeError, timeoutMs: number): Error {
  switch (err.kind) {
    case 'timeout':
      return new GuestTimeoutError(timeoutMs);
    case 'busy':
      return new VmBusyError();
    case 'closed':
    case 'dead':
      return new VmClosedError(err.message);
    case 'snapshot':
    case 'no_snapshot':
    case 'not_at_doorbell':
      return new VmSnapshotError(err.message, { cause: err });
    case 'bad_input':
      // MicroVM validates before calling, so this is a host-side bug, not the guest's doing.
      return new FnVmError(`the native core refused the request: ${err.message}`, { cause: err });
    default:
      return new GuestCrashedError(err.kind ?? 'unknown', err.message, { cause: err });
  }
}
