/**
 * The checks of a smoke script: a readable line per check, and a machine-readable one that
 * vitest turns into a test of its own (vmm/src/test-support/native-results.ts), so a failure in
 * `npm test` names the check instead of "N passed, 1 failed".
 *
 *   ok   name — detail
 *   ##fn-test {"suite":"smoke","name":"...","ok":true,"detail":"..."}
 *   smoke: N passed, M failed
 */
export function checks(suite) {
  let passed = 0;
  let failed = 0;
  return {
    check(name, ok, detail = '') {
      if (ok) passed++;
      else failed++;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
      console.log(`##fn-test ${JSON.stringify({ suite, name, ok: Boolean(ok), detail: String(detail) })}`);
    },
    /** Prints the summary line and exits: 1 if any check failed. */
    finish() {
      console.log(`${suite}: ${passed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
  };
}
