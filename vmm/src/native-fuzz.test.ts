// The bounded fuzz run of CI (issue 13): every libFuzzer target of vmm/native/fuzz/ — the host's
// parsers of what a guest, a snapshot file on disk or the worker hands it: the window report,
// pages.bin, cpu.bin, the ptrace VMM's control input — replays its seed corpus (the regressions)
// and then fuzzes for 4 s (16 s in all) under ASan + UBSan + LeakSanitizer. A crash, sanitizer report, leak or failed property fails its test
// and names the saved input. FN_FUZZ_SECONDS (per target) for longer; `npm run fuzz -- --seconds N`
// runs the same targets outside vitest.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const seconds = Number(process.env.FN_FUZZ_SECONDS) || 4;
const targets = readdirSync(new URL('../native/fuzz/corpus/', import.meta.url));
// Asynchronously, so the vitest worker stays responsive through the build and the runs (~1 min).
const run = await new Promise<{ status: number | null; output: string }>((resolve) => {
  const child = spawn('scripts/fuzz', ['--seconds', String(seconds)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  child.on('error', (err) => (output += `\n${err.message}`));
  child.on('close', (status) => {
    clearTimeout(timer);
    resolve({ status, output });
  });
});
const output = run.output;

describe('libFuzzer targets of the host-side parsers', () => {
  it('has a seed corpus for each target', () => {
    expect(targets.sort()).toEqual(['fuzz_control_input', 'fuzz_cpu_file', 'fuzz_pages_file', 'fuzz_window_report']);
  });
  for (const target of targets) {
    it(`${target}: ${seconds} s of fuzzing after its corpus, no crash, sanitizer report, leak or failed property`, () => {
      const line = output.split('\n').find((l) => l.startsWith(`fuzz ${target}:`));
      expect(line, output.slice(-6000)).toMatch(/no crash, leak or failed property/);
      // A target that ran no inputs proves nothing: the seeds at least must have been replayed.
      const inputs = Number(/: (\d+) inputs/.exec(line ?? '')?.[1]);
      expect(inputs, line).toBeGreaterThan(readdirSync(new URL(`../native/fuzz/corpus/${target}/`, import.meta.url)).length);
      console.info(line);
    });
  }
  it('the fuzz run as a whole succeeded', () => {
    expect(run.status, output.slice(-6000)).toBe(0);
  });
});
