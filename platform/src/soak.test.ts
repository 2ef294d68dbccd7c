// The bounded soak of CI (issue 13, deliverable 5): for FN_SOAK_SECONDS (default 30) a real
// platform (this machine's backend: ptrace without /dev/kvm) takes good and hostile invocations
// mixed — infinite loop, memory bomb, deep recursion, 7 MiB response, header flood, a throw of a
// poisoned non-Error, poisoned built-ins — from more concurrent clients than the good function's
// pool holds (its maxConcurrency is 2: the rest queue, or are shed with 429 as documented). Every
// answer is classed by its error type; the test fails on any class a function cannot explain
// (an internal error, a dropped connection, a 503), on a good invocation that fails for any reason
// but overload, and on growth of this process's memory, file descriptors or VM processes. Then the
// platform must still serve. FN_SOAK_SECONDS / FN_SOAK_CLIENTS for a longer or wider run;
// FN_SOAK_HOSTILE=10000 goes on past the time until that many hostile invocations have run (~20
// min of this mix on the ptrace backend of a 2-core machine; CI runs the 10,000 in
// hostile-volume.test.ts, weighted towards the attacks that fail fast).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';
import { HOSTILE } from './test-support/hostile-functions.js';
import { type InvocationOutcome, invocationOutcome } from './test-support/invocation-outcome.js';

const SECONDS = Number(process.env.FN_SOAK_SECONDS) || 30;
const CLIENTS = Number(process.env.FN_SOAK_CLIENTS) || 8;
const HOSTILE_TARGET = Number(process.env.FN_SOAK_HOSTILE) || 0;
const GOOD_MAX_CONCURRENCY = 2;
const MiB = 1024 * 1024;
/** The JavaScript attacks; the guest-level ones (test hooks) run in hostile-volume.test.ts. */
const SOAKED = Object.fromEntries(Object.entries(HOSTILE).filter(([, f]) => !f.testHooks));

const GOOD = "export default { async fetch(req) { return new Response('alive ' + new URL(req.url).pathname); } };";
/** What each function may answer: 'ok' for a 200; every function may also be shed ('overloaded'). */
const EXPECTED: Record<string, string[]> = {
  good: ['ok', 'overloaded'],
  ...Object.fromEntries(Object.entries(SOAKED).map(([name, f]) => [name, [...f.outcomes, 'overloaded']])),
};
/** One client's order of calls: half good, the rest each attack; the costly ones (a 200 ms spin, 32 MiB) once. */
const CYCLE = [
  'good',
  'throws-non-error',
  'good',
  'deep-recursion',
  'good',
  'header-flood',
  'good',
  'huge-response',
  'good',
  'poisoned-builtins',
  'good',
  'loop',
  'good',
  'memory-bomb',
];

const openFds = () => readdirSync('/proc/self/fd').length;
/** This process's children (ptrace VMs; VMM hosts on KVM) and their resident memory. */
function children(): { count: number; rssBytes: number } {
  let count = 0;
  let rssBytes = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      count++;
      rssBytes += Number(fields[21]) * 4096;
    } catch {
      // gone meanwhile
    }
  }
  return { count, rssBytes };
}
const measure = () => ({ rss: process.memoryUsage().rss, fds: openFds(), ...children() });

describe('soak: good and hostile invocations mixed, above the pool size', () => {
  let p: RunningPlatform;
  beforeAll(async () => {
    p = await startPlatform({ dataDir: mkdtempSync(join(tmpdir(), 'fn-soak-')), port: 0, hosts: 1, logger: () => {} });
    const headers = { authorization: `Bearer ${p.newAdminKey}`, 'content-type': 'application/json' };
    expect((await fetch(`${p.url}/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ name: 'soak' }) })).status).toBe(201);
    const functions: [string, string, object][] = [
      ['good', GOOD, { maxConcurrency: GOOD_MAX_CONCURRENCY }],
      // 30 s, not the hostile suite's 5 s: on a machine this busy (8 clients, VMs restored and
      // discarded all the time, other work beside) building a 7 MiB response took over 5 s of wall
      // time, a timeout the machine explains and not the platform. The loop keeps its 200 ms.
      ...Object.entries(SOAKED).map(([name, f]): [string, string, object] => [name, f.source, { memoryMiB: 64, timeoutMs: 30_000, ...f.config }]),
    ];
    for (const [name, bundle, config] of functions) {
      const res = await fetch(`${p.url}/v1/functions?tenant=soak`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name, bundle, config: { public: true, ...config } }),
      });
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(201);
    }
  }, scaledTimeout(300_000));
  afterAll(async () => {
    await p?.close();
  });

  /** One invocation, classed: 'ok', the gateway's error type, or what went wrong on the way. */
  async function invoke(name: string, i: number): Promise<InvocationOutcome> {
    const path = name === 'good' ? `/call-${i}` : '/attack';
    const answer = await invocationOutcome(`${p.url}/fn/soak/${name}${path}`);
    if (answer.outcome !== 'ok') return answer;
    // A good answer must be this invocation's own, not another's.
    if (name === 'good' && answer.detail !== `alive ${path}`) return { outcome: 'wrong_body', detail: answer.detail.slice(0, 200) };
    return { outcome: 'ok', detail: '' };
  }

  /** CLIENTS loops, each going round CYCLE from its own offset, until the deadline. */
  async function run(seconds: number, hostileTarget = 0) {
    const counts: Record<string, Record<string, number>> = {};
    const unexplained: string[] = [];
    const deadline = Date.now() + seconds * 1000;
    let n = 0;
    let hostile = 0;
    const client = async (offset: number) => {
      for (let k = offset; Date.now() < deadline || hostile < hostileTarget; k++) {
        const name = CYCLE[k % CYCLE.length]!;
        if (name !== 'good') hostile++;
        const { outcome, detail } = await invoke(name, n++);
        const byClass = (counts[name] ??= {});
        byClass[outcome] = (byClass[outcome] ?? 0) + 1;
        if (!EXPECTED[name]!.includes(outcome) && unexplained.length < 20) unexplained.push(`${name}: ${outcome} ${detail}`);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c * 3)));
    return { counts, unexplained };
  }

  it(`${SECONDS} s at ${CLIENTS} clients (good function's pool: ${GOOD_MAX_CONCURRENCY}): every answer explained, memory, fds and VM processes flat`, {
    timeout: scaledTimeout(SECONDS * 1000 + HOSTILE_TARGET * 500 + 240_000),
  }, async () => {
    // Warm-up: pools fill, caches and the JIT settle; its answers are held to the same rules.
    const warm = await run(Math.min(8, SECONDS));
    expect(warm.unexplained).toEqual([]);
    const before = measure();
    const started = Date.now();
    const { counts, unexplained } = await run(SECONDS, HOSTILE_TARGET);
    const elapsed = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000)); // resets and pool refills after the last answers
    const after = measure();

    const total = (name: string) => Object.values(counts[name] ?? {}).reduce((a, b) => a + b, 0);
    const all = Object.keys(counts).reduce((a, name) => a + total(name), 0);
    const hostile = all - total('good');
    console.info(
      [
        `soak [${p.platform}], ${elapsed.toFixed(1)} s, ${CLIENTS} clients: ${all} invocations (${(all / elapsed).toFixed(0)}/s), ${hostile} hostile`,
        ...Object.entries(counts).map(([name, byClass]) => `  ${name}: ${JSON.stringify(byClass)}`),
        `  this process: RSS ${(before.rss / MiB).toFixed(1)} → ${(after.rss / MiB).toFixed(1)} MiB, fds ${before.fds} → ${after.fds}`,
        `  child processes ${before.count} → ${after.count}, their RSS ${(before.rssBytes / MiB).toFixed(1)} → ${(after.rssBytes / MiB).toFixed(1)} MiB`,
      ].join('\n'),
    );

    expect(unexplained, 'answers no function explains').toEqual([]);
    expect(counts.good?.ok ?? 0, 'good invocations served').toBeGreaterThan(0);
    for (const name of Object.keys(SOAKED)) expect(total(name), `${name} invoked`).toBeGreaterThan(0);
    // Bounds far above noise (RSS moved by -52..+5 MiB in our runs): keeping each 7 MiB
    // response crosses 256 MiB after ~37 of them (a CI run makes 15-40); one fd or one VM kept
    // per invocation crosses the others many times over in the hundreds of invocations of a run.
    expect(after.rss - before.rss, `RSS ${Math.round(before.rss / MiB)} → ${Math.round(after.rss / MiB)} MiB`).toBeLessThan(256 * MiB);
    expect(after.fds - before.fds, `fds ${before.fds} → ${after.fds}`).toBeLessThanOrEqual(4 * CLIENTS + 16);
    expect(after.count - before.count, `child processes ${before.count} → ${after.count}`).toBeLessThanOrEqual(16);
  });

  it('the platform serves afterwards: a good invocation and the control API', async () => {
    expect(await invoke('good', -1)).toEqual({ outcome: 'ok', detail: '' });
    const res = await fetch(`${p.url}/v1/whoami`, { headers: { authorization: `Bearer ${p.newAdminKey}` } });
    expect(res.status).toBe(200);
  });
});
