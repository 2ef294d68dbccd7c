export { MicroVM, type InvokeResult, type VmSnapshot } from './microvm.js';
export { toVmRequest } from './request-input.js';
export { probeKvm, kvmDevicePresent, KVM_DEVICE } from './kvm-probe.js';
export * from './errors.js';
export {
  MEMORY_MIB_MIN,
  MEMORY_MIB_MAX,
  TIMEOUT_MS_MAX,
  REQUEST_BODY_MAX,
  type BootOptions,
  type LoadOptions,
  type InvokeRequest,
  type LogEntry,
} from './schemas.js';
export type { Platform } from './transport.js';
export { choosePlatform, ptraceUsable, type Backend } from './platform-choice.js';
export { scaledTimeout, timeoutScale } from './time-scale.js';
export { nativeAddonPath } from './native.js';
export { lockDownKvmHost, lockdownProbe, type HostLockdown } from './host-lockdown.js';
export { landlockExecPath, ptraceVmmPath } from './ptrace-vmm.js';
export { prepareRestores } from './ptrace-launcher.js';
