// The guest's C unit tests (src/*_test.c), one vitest test per case the C program reports, so a
// failure names its case. The programs are built and run while vitest collects this file: the
// cases a program has are known only from its output.
import { describe, expect, it } from 'vitest';
import { C_TESTS, runCTest } from '../scripts/lib/c-tests.mjs';

for (const program of C_TESTS) {
  const run = runCTest(program);
  describe(`C unit tests: ${program.name} (${program.test})`, () => {
    for (const c of run.cases) {
      it(c.name, () => {
        expect(c.ok, `${program.test}: ${c.detail}`).toBe(true);
      });
    }
    it('builds, reports its cases and exits 0', () => {
      expect(run.buildError, run.buildError).toBeUndefined();
      expect(run.signal, `${program.test} was killed by ${run.signal} after:\n${run.output}`).toBeNull();
      expect(run.cases.length, run.output).toBeGreaterThan(0);
      expect(run.status, run.output).toBe(0);
    });
  });
}
