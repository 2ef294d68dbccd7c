/**
 * Is a usable KVM here? Asks the native core (open /dev/kvm, API version 12, needed extensions);
 * if the core is not built, answers from the device node alone.
 */
import { accessSync, constants } from 'node:fs';
import { loadNative, type NativeProbe } from './native.js';

export const KVM_DEVICE = '/dev/kvm';

export function probeKvm(): NativeProbe {
  try {
    return loadNative().probe();
  } catch {
    try {
      accessSync(KVM_DEVICE, constants.R_OK | constants.W_OK);
      return { ok: false, code: 'ENATIVE', message: 'the native core is not built, so KVM could not be checked' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ENOENT';
      return { ok: false, code, message: `${KVM_DEVICE}: ${code}` };
    }
  }
}

/** True when /dev/kvm exists at all: then KVM tests must run, never skip. */
export function kvmDevicePresent(): boolean {
  try {
    accessSync(KVM_DEVICE, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
