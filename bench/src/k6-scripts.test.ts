// The k6 scripts in bench/k6 run here against a live platform (ptrace backend), with a small
// stand-in for k6's modules (src/k6-standin: real HTTP, k6's synchronous API), so they cannot rot:
// each script's setup and default function must run, every check must pass, and every answer
// must have been tagged cold or warm from the platform's x-fn-cold-start header.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type RunningPlatform } from '../../platform/src/start-platform.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const STANDIN = here('./k6-standin/');
const K6 = here('../k6/');

interface Sample {
  metric: string;
  value: number;
  tags: Record<string, string>;
}
interface Run {
  options: { thresholds?: Record<string, string[]>; scenarios?: Record<string, { executor: string }> };
  checks: Record<string, { passes: number; fails: number }>;
  samples: Sample[];
}

function runScript(script: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', join(STANDIN, 'register.mjs'), join(STANDIN, 'run.mjs'), join(K6, script)],
      { env: { ...process.env, ...env }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${script} failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Run);
      },
    );
  });
}

const starts = (run: Run) => run.samples.filter((s) => s.metric === 'fn_latency').map((s) => s.tags.start);

function expectChecksPassed(run: Run): void {
  expect(Object.keys(run.checks).length).toBeGreaterThan(0);
  for (const [name, c] of Object.entries(run.checks)) {
    expect({ name, fails: c.fails }).toEqual({ name, fails: 0 });
    expect(c.passes).toBeGreaterThan(0);
  }
  expect(Object.keys(run.options.thresholds ?? {}).length).toBeGreaterThan(0);
}

describe('k6 scripts against a live fn (ptrace backend)', () => {
  let platform: RunningPlatform;
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'fn-k6-'));
    platform = await startPlatform({ dataDir, port: 0, backend: 'ptrace', hosts: 1, logger: () => {} });
    env = { FN_URL: platform.url, FN_API_KEY: platform.newAdminKey!, FN_TENANT: 'k6', K6_STANDIN_ITERATIONS: '3' };
  }, scaledTimeout(60_000));
  afterAll(async () => {
    await platform?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('warm.js: hello and echo answer right, tagged warm', { timeout: scaledTimeout(120_000) }, async () => {
    const run = await runScript('warm.js', env);
    expectChecksPassed(run);
    // setup's first answers may be cold; the 3 iterations × 2 functions after it are warm.
    expect(starts(run).slice(-6)).toEqual(Array(6).fill('warm'));
  });

  it('cold.js: each iteration a new version, answered cold', { timeout: scaledTimeout(120_000) }, async () => {
    const run = await runScript('cold.js', env);
    expectChecksPassed(run);
    expect(starts(run)).toEqual(['cold', 'cold', 'cold']);
    expect(run.samples.filter((s) => s.metric === 'fn_deploy_to_first')).toHaveLength(3);
  });

  it('mixed.js: many functions at an arrival rate, cold and warm both seen', { timeout: scaledTimeout(180_000) }, async () => {
    const run = await runScript('mixed.js', { ...env, FUNCTIONS: '3', COLD_RATIO: '0.3', K6_STANDIN_ITERATIONS: '12' });
    expectChecksPassed(run);
    expect(run.options.scenarios?.mixed?.executor).toBe('constant-arrival-rate');
    expect(starts(run)).toContain('cold');
    expect(starts(run)).toContain('warm');
  });

  it('fresh-throughput.js: every answer from a fresh state', { timeout: scaledTimeout(120_000) }, async () => {
    const run = await runScript('fresh-throughput.js', { ...env, K6_STANDIN_ITERATIONS: '5' });
    expectChecksPassed(run);
    expect(run.checks['body is right']!.passes).toBe(6); // setup's answer and the 5 iterations', all "1"
  });

  it('a broken script fails the run', { timeout: scaledTimeout(60_000) }, async () => {
    // A wrong key: setup cannot reach the API, the script throws, the run fails.
    await expect(runScript('warm.js', { ...env, FN_API_KEY: 'fn_not_a_key' })).rejects.toThrow(/whoami answered 401/);
  });
});
