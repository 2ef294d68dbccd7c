// harness.cjs — the smallest async test runner: no dependency. Per test it prints "ok   NAME" /
// "FAIL NAME" for people and one result line for vitest (vmm/src/native-core.test.ts and
// kvm-scenarios.test.ts make each one a test of its own; the format is test_main.cc's):
//   ##fn-test {"suite":LABEL,"name":NAME,"ok":BOOL,"detail":WHY IT FAILED}
// then "<label>: N passed, N failed".
'use strict';

function createHarness(label) {
  const tests = [];
  return {
    test(name, fn) {
      tests.push({ name, fn });
    },
    async run() {
      let passed = 0;
      let failed = 0;
      for (const t of tests) {
        try {
          await t.fn();
          passed++;
          console.log(`ok   ${t.name}`);
          console.log(`##fn-test ${JSON.stringify({ suite: label, name: t.name, ok: true, detail: '' })}`);
        } catch (e) {
          failed++;
          const why = e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n    ') : String(e);
          console.log(`FAIL ${t.name}\n    ${why}`);
          console.log(`##fn-test ${JSON.stringify({ suite: label, name: t.name, ok: false, detail: why })}`);
        }
      }
      console.log(`${label}: ${passed} passed, ${failed} failed`);
      return failed;
    },
  };
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

// Runs fn, expects it to throw synchronously; returns the error.
function throwsSync(fn, what) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error(`expected a throw: ${what}`);
}

module.exports = { createHarness, assert, throwsSync };
