/**
 * The KVM microVM transport: a thin adapter over the native NativeMicroVm, which owns the VM, its
 * vCPU thread and the watchdog. Maps the native error kinds onto fn's error classes.
 */
import { FnVmError, GuestCrashedError, GuestTimeoutError, KvmUnavailableError, VmBusyError, VmClosedError } from './errors.js';
import { freshEntropy, nowUnixNs } from './host-inputs.js';
import { loadNative, type NativeError, type NativeMicroVm } from './native.js';
import type { ExchangeRequest, ExchangeResult, GuestTransport } from './transport.js';

export class KvmTransport implements GuestTransport {
  readonly platform = 'kvm' as const;
  readonly hostPid = process.pid;
  private readonly vm: NativeMicroVm;

  constructor(guestElf: Buffer, memoryMiB: number) {
    // KVM maps guest RAM in 2 MiB pages: the guest gets memoryMiB rounded up to the next 2 MiB.
    const memoryBytes = Math.ceil(memoryMiB / 2) * 2 * 1024 * 1024;
    const native = loadNative();
    const probe = native.probe();
    if (!probe.ok) throw new KvmUnavailableError(probe.code ?? 'EUNKNOWN', probe.message ?? '/dev/kvm is not usable');
    try {
      this.vm = new native.NativeMicroVm({ memoryBytes, guestElf });
    } catch (err) {
      const e = err as NativeError;
      if (e.code === 'KVM_UNAVAILABLE') throw new KvmUnavailableError('EKVM', e.message, { cause: err });
      throw new FnVmError(`could not create the microVM: ${e.message}`, { cause: err });
    }
  }

  exchange(request: ExchangeRequest): Promise<ExchangeResult> {
    return new Promise((resolve, reject) => {
      // The native side throws synchronously (busy, closed, dead, bad_input) and otherwise answers
      // through the callback; both paths go through the same mapping.
      try {
        this.vm.exchange(
          {
            command: request.command,
            input: request.input,
            nowUnixNs: nowUnixNs(),
            entropy: freshEntropy(),
            timeoutMs: request.timeoutMs,
          },
          (err, res) => {
            if (err) reject(mapNativeError(err, request.timeoutMs));
            else resolve(res!);
          },
        );
      } catch (err) {
        reject(mapNativeError(err as NativeError, request.timeoutMs));
      }
    });
  }

  close(): void {
    this.vm.close();
  }

  /** A VM restored from snapshot files. The native restore lands with the snapshots work. */
  static restore(memoryMiB: number, files: { dir: string; baseMemoryPath?: string | undefined }): KvmTransport {
    void memoryMiB;
    void files;
    throw new FnVmError('restoring KVM snapshots is not wired into the TypeScript API yet');
  }
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
    case 'bad_input':
      // MicroVM validates before calling, so this is a host-side bug, not the guest's doing.
      return new FnVmError(`the native core refused the request: ${err.message}`, { cause: err });
    default:
      return new GuestCrashedError(err.kind ?? 'unknown', err.message, { cause: err });
  }
}
