// process.js — what fn offers of Node's `process` (bundled into functions by cli/src/node-compat.ts).
// env is the environment of the invocation that is running (the function's env vars and secrets,
// which travel with each invocation and never live in the snapshot); at load time it is the
// load-time env. Writes to process.env last until the env changes: a pooled VM is reset to its
// snapshot after every invocation, so on the platform they never reach the next one.
const CURRENT_ENV = Symbol.for('fn.invocationEnv');
let seen;
let env = {};

function currentEnv() {
  const read = globalThis[CURRENT_ENV];
  const frozen = typeof read === 'function' ? read() : undefined;
  if (frozen !== seen) {
    seen = frozen;
    env = Object.assign({ NODE_ENV: 'production' }, frozen);
  }
  return env;
}

function nextTick(callback, ...args) {
  if (typeof callback !== 'function') throw new TypeError('process.nextTick: the callback must be a function');
  queueMicrotask(() => callback(...args));
}

function makeHrtime() {
  const hrtime = (previous) => {
    const ns = Math.round(performance.now() * 1e6);
    let s = Math.floor(ns / 1e9);
    let n = ns % 1e9;
    if (previous) {
      s -= previous[0];
      n -= previous[1];
      if (n < 0) {
        s -= 1;
        n += 1e9;
      }
    }
    return [s, n];
  };
  hrtime.bigint = () => BigInt(Math.round(performance.now() * 1e6));
  return hrtime;
}

export const process = {
  get env() {
    return currentEnv();
  },
  nextTick,
  // Annotated pure so that a bundle that never uses `process` carries none of this file.
  hrtime: /* @__PURE__ */ makeHrtime(),
  title: 'fn',
  argv: [],
  execArgv: [],
  version: '',
  versions: {},
  platform: 'fn',
  browser: false,
  cwd: () => '/',
  emitWarning: (warning) => console.warn(String(warning && warning.message ? warning.message : warning)),
  exit: (code) => {
    throw new Error(`process.exit(${code === undefined ? '' : code}) called: a function cannot exit; return a Response (or throw) instead`);
  },
  on: () => process,
  once: () => process,
  off: () => process,
  removeListener: () => process,
  emit: () => false,
  listeners: () => [],
};
export default process;
