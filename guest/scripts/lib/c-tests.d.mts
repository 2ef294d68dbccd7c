// Types for c-tests.mjs (a plain ES module so scripts run it without a compiler).

export interface CTestProgram {
  name: string;
  test: string;
  units: Array<{ file: string; flags?: string[] }>;
}

export interface CTestCase {
  name: string;
  ok: boolean;
  /** "# detail" of a passing case; the failure lines of a failing one. */
  detail: string;
}

export interface CTestRun {
  name: string;
  /** gcc's messages when the program does not build (then there are no cases). */
  buildError?: string;
  cases: CTestCase[];
  status: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

export declare const C_TESTS: CTestProgram[];
export declare function buildCTest(t: CTestProgram): string;
export declare function runCTest(t: CTestProgram): CTestRun;
