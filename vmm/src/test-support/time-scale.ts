/**
 * Time limits in tests, stretched by FN_TIMEOUT_SCALE where code runs slower than it should be
 * judged at (the nested KVM machine sets it). A limit in a test says "this hangs", never "this is
 * fast": benchmarks measure speed.
 */
export { scaledTimeout, timeoutScale } from '../time-scale.js';
