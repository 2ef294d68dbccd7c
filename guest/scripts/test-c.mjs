#!/usr/bin/env node
// test-c.mjs — builds and runs the guest's C unit tests (src/*_test.c) with the host's gcc and
// prints what each case reported (scripts/lib/c-tests.mjs). Under vitest, src/c-tests.test.ts
// reports each case as a test of its own.
//
//   node guest/scripts/test-c.mjs
import { C_TESTS, runCTest } from './lib/c-tests.mjs';

let passed = 0;
let failed = 0;
for (const t of C_TESTS) {
  const r = runCTest(t);
  if (r.buildError) {
    failed++;
    process.stdout.write(`FAIL ${t.name}: does not build\n${r.buildError}\n`);
    continue;
  }
  for (const c of r.cases) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${t.name}: ${c.name}${c.detail ? ` — ${c.detail}` : ''}\n`);
  if (r.status === 0 && r.cases.length > 0 && r.cases.every((c) => c.ok)) passed++;
  else {
    failed++;
    process.stdout.write(`FAIL ${t.name} (exit ${r.status ?? r.signal})\n`);
  }
}
console.log(`c-tests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
