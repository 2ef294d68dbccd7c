/**
 * FN_TIMEOUT_SCALE stretches fn's internal time limits (a VMM host's start, calls between
 * processes) and the tests' limits, never a function's own timeoutMs. It exists for machines that
 * run code far slower than it should be judged at: inside the nested KVM machine of
 * scripts/with-kvm (QEMU's emulator, 10-50x slower than native) it is set to 10.
 */
export function timeoutScale(): number {
  return Math.max(1, Number(process.env.FN_TIMEOUT_SCALE) || 1);
}

export function scaledTimeout(ms: number): number {
  return ms * timeoutScale();
}
