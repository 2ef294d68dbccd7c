/**
 * Time limits in tests, stretched where code runs slower than it should be judged at: inside the
 * nested KVM machine of scripts/with-kvm (10-50x slower than native), which sets FN_TIMEOUT_SCALE.
 * A limit in a test says "this hangs", never "this is fast": benchmarks measure speed.
 */
export function timeoutScale(): number {
  return Math.max(1, Number(process.env.FN_TIMEOUT_SCALE) || 1);
}

export function scaledTimeout(ms: number): number {
  return ms * timeoutScale();
}
