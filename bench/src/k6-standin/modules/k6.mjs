// Stand-in for `k6`: check, sleep, group, fail — recorded in state for the test to read.
import { state } from './state.mjs';

export function check(value, checks, tags = {}) {
  let all = true;
  for (const [name, fn] of Object.entries(checks)) {
    let ok;
    try {
      ok = Boolean(fn(value));
    } catch {
      ok = false;
    }
    const c = (state.checks[name] ??= { passes: 0, fails: 0 });
    if (ok) c.passes += 1;
    else c.fails += 1;
    state.samples.push({ metric: 'checks', type: 'rate', value: ok ? 1 : 0, tags: { check: name, ...tags } });
    all &&= ok;
  }
  return all;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
export function sleep(seconds) {
  Atomics.wait(sleeper, 0, 0, seconds * 1000);
}

export function group(name, fn) {
  return fn();
}

export function fail(message) {
  throw new Error(message);
}

export default { check, sleep, group, fail };
