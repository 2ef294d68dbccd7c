/**
 * The native suites (vmm/native/test: the C++ unit tests, and the Node harness of the addon, the
 * fake-KVM and the real-KVM scenarios) as vitest tests, one per native test: each runner prints a
 * result line per test (test_main.cc, harness.cjs)
 *   ##fn-test {"suite":"native","name":"...","ok":true,"detail":""}
 * and declareNativeResults() turns each line into an `it` that fails with that test's own detail, so
 * a failure names the scenario. The suite runs once, while vitest collects the file (the names are
 * only known once it ran); an extra test checks that it ran to its end.
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';

export interface NativeResult {
  suite: string;
  name: string;
  ok: boolean;
  detail: string;
}

export interface NativeRun {
  command: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  results: NativeResult[];
  /** "<label>: N passed, M failed" lines, per label. */
  summaries: Array<{ label: string; passed: number; failed: number }>;
}

const RESULT_PREFIX = '##fn-test ';

export function parseNativeOutput(output: string): Pick<NativeRun, 'results' | 'summaries'> {
  const results: NativeResult[] = [];
  const summaries: NativeRun['summaries'] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith(RESULT_PREFIX)) {
      results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as NativeResult);
      continue;
    }
    const m = /^([\w-]+): (\d+) passed, (\d+) failed$/.exec(line);
    if (m) summaries.push({ label: m[1]!, passed: Number(m[2]), failed: Number(m[3]) });
  }
  return { results, summaries };
}

/** Runs a native suite to its end (no timeout here: a clean ASan build takes minutes on a loaded machine). */
export function runNativeSuite(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<NativeRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const done = (status: number | null, signal: NodeJS.Signals | null) =>
      resolve({ command: `${command} ${args.join(' ')}`, status, signal, output, ...parseNativeOutput(output) });
    child.on('error', (err) => {
      output += `\ncould not start ${command}: ${err.message}`;
      done(null, null);
    });
    child.on('close', done);
  });
}

/** The lines of the output around one test's result line, for its failure message. */
function outputAround(run: NativeRun, r: NativeResult): string {
  const lines = run.output.split('\n');
  const at = lines.findIndex((l) => l.startsWith(RESULT_PREFIX) && l.includes(JSON.stringify(r.name)));
  return lines.slice(Math.max(0, at - 30), at + 1).join('\n');
}

/**
 * One `it` per result line (named by `nameOf`), then one that checks the run as a whole: it exited
 * 0, every runner printed its summary, and the summaries count exactly the result lines seen (a
 * runner that died halfway fails here, naming the last test that reported).
 */
export function declareNativeResults(run: NativeRun, nameOf: (r: NativeResult) => string, expectedLabels: string[]): void {
  for (const r of run.results) {
    it(nameOf(r), () => {
      if (!r.ok) throw new Error(`${r.suite}: ${r.name} failed:\n${r.detail}\n--- output before its result line ---\n${outputAround(run, r)}`);
    });
  }
  it(`ran to its end (${run.command})`, () => {
    const tail = run.output.slice(-4000);
    const labels = run.summaries.map((s) => s.label);
    expect(labels, `summaries seen: ${labels.join(', ')}\n${tail}`).toEqual(expect.arrayContaining(expectedLabels));
    for (const s of run.summaries) {
      const lines = run.results.filter((r) => r.suite === s.label);
      expect(lines.length, `${s.label}: the summary counts ${s.passed + s.failed} tests, ${lines.length} result lines were seen`).toBe(s.passed + s.failed);
      expect(s.passed, `${s.label}: no test passed`).toBeGreaterThan(0);
    }
    expect({ status: run.status, signal: run.signal }, tail).toEqual({ status: run.results.every((r) => r.ok) ? 0 : 1, signal: null });
  });
}
