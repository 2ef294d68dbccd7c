// harness.cjs — the smallest async test runner: no dependency, prints "<label>: N passed, N failed".
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
        } catch (e) {
          failed++;
          console.log(`FAIL ${t.name}\n    ${e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n    ') : e}`);
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
