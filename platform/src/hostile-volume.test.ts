// 10,000 hostile invocations in CI (issue 13, deliverable 2: "host RSS and fds flat over 10,000
// hostile invocations"), through the real chain — HTTP → gateway → scheduler → worker → VMM — on
// this machine's backend (ptrace without /dev/kvm). Mostly the attacks that fail fast: a throw of
// a poisoned non-Error, poisoned built-ins, 300 response headers, deep recursion, and what a guest
// whose runtime was taken over would do (stray syscall, privileged instruction, a read past its
// RAM, an unknown doorbell, a window whose length, offset or status lies: guest/src/test_attacks.c,
// each one ends its VM and the next invocation is restored from the snapshot); a smaller share of
// the slow ones (an infinite loop that hits its timeout, a memory bomb, a 7 MiB response). Every
// function's pool is smaller than the clients, so invocations queue.
//
// Asserted: every answer is the typed error its attack explains; after every batch each function
// that was attacked serves `/ok`, and a good function answers its own request; from the start
// (after a warm-up) to the end, the resident memory and descriptors of this process (gateway,
// scheduler and worker), the VMM launcher and the VMM processes, and the number of VMM processes,
// stay within bounds far above noise and far below what one leaked response, descriptor or
// process per invocation would add. FN_HOSTILE_VOLUME=N for another count (on demand).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';
import { HOSTILE } from './test-support/hostile-functions.js';
import { type InvocationOutcome, invocationOutcome } from './test-support/invocation-outcome.js';

const TOTAL = Number(process.env.FN_HOSTILE_VOLUME) || 10_000;
const CLIENTS = 12;
/** Each function's pool and concurrency limit: below CLIENTS, so the busiest kinds queue. */
const POOL = 2;
const BATCHES = 20;
const MiB = 1024 * 1024;

/** Share of the invocations per kind (parts per 10,000): the fast ones mostly, a few slow ones. */
const SHARE: Record<string, number> = {
  'throws-non-error': 2950,
  'poisoned-builtins': 1200,
  'header-flood': 1000,
  'deep-recursion': 500,
  'stray-syscall': 600,
  'privileged-instruction': 600,
  'read-outside-ram': 600,
  'unknown-doorbell': 600,
  'window-length': 600,
  'window-offset': 600,
  'window-status': 600,
  loop: 80,
  'memory-bomb': 40,
  'huge-response': 30,
};

const GOOD = "export default { async fetch(req) { return new Response('alive ' + new URL(req.url).pathname); } };";

/** The kinds in a fixed shuffled order (a seeded generator: every run attacks in the same order). */
function plan(total: number): string[] {
  const parts = Object.values(SHARE).reduce((a, b) => a + b, 0);
  const kinds: string[] = [];
  for (const [name, share] of Object.entries(SHARE)) for (let i = 0; i < Math.max(1, Math.round((total * share) / parts)); i++) kinds.push(name);
  while (kinds.length < total) kinds.push('throws-non-error'); // what rounding left out
  let seed = 0x13;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / 0x1000000;
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds.slice(0, total);
}

interface ProcessSample {
  pid: number;
  name: string;
  rssBytes: number;
  fds: number;
}

/** This process and every process below it (the launcher, VMMs, their guest processes). */
function processTree(): ProcessSample[] {
  const parentOf = new Map<number, number>();
  const nameOf = new Map<number, string>();
  const rssOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
      nameOf.set(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      rssOf.set(Number(entry), Number(fields[21]) * 4096);
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 1 && depth < 16; p = parentOf.get(p), depth++) if (p === process.pid) return true;
    return false;
  };
  const out: ProcessSample[] = [];
  for (const pid of parentOf.keys()) {
    if (!inTree(pid)) continue;
    let fds = 0;
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // gone meanwhile, or a guest process we may not look into
    }
    out.push({ pid, name: nameOf.get(pid)!, rssBytes: pid === process.pid ? process.memoryUsage().rss : rssOf.get(pid)!, fds });
  }
  return out;
}

interface Sample {
  rss: number;
  fds: number;
  /** Processes below this one (launcher, VMMs, guests, VMM hosts on KVM), their RSS and fds. */
  children: number;
  childRss: number;
  childFds: number;
}

function sample(): Sample {
  const tree = processTree();
  const self = tree.find((p) => p.pid === process.pid)!;
  const children = tree.filter((p) => p.pid !== process.pid);
  return {
    rss: self.rssBytes,
    fds: self.fds,
    children: children.length,
    childRss: children.reduce((a, p) => a + p.rssBytes, 0),
    childFds: children.reduce((a, p) => a + p.fds, 0),
  };
}

describe(`${TOTAL} hostile invocations at ${CLIENTS} clients over pools of ${POOL}`, () => {
  let p: RunningPlatform;
  const hooksBefore = process.env.FN_VMM_TEST_HOOKS;
  beforeAll(async () => {
    process.env.FN_VMM_TEST_HOOKS = '1'; // the guest-level attacks (see hostile-functions.ts)
    p = await startPlatform({ dataDir: mkdtempSync(join(tmpdir(), 'fn-hostile-volume-')), port: 0, hosts: 1, logger: () => {} });
    const headers = { authorization: `Bearer ${p.newAdminKey}`, 'content-type': 'application/json' };
    expect((await fetch(`${p.url}/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ name: 'volume' }) })).status).toBe(201);
    const functions: [string, string, object][] = [
      ['good', GOOD, {}],
      // 30 s, as in the soak: on a loaded machine a 7 MiB response can take seconds of wall time;
      // the loop keeps its own 200 ms.
      ...Object.keys(SHARE).map((name): [string, string, object] => [name, HOSTILE[name]!.source, { timeoutMs: 30_000, ...HOSTILE[name]!.config }]),
    ];
    for (const [name, bundle, config] of functions) {
      const res = await fetch(`${p.url}/v1/functions?tenant=volume`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name, bundle, config: { memoryMiB: 64, public: true, maxConcurrency: POOL, ...config } }),
      });
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(201);
    }
  }, scaledTimeout(300_000));
  afterAll(async () => {
    await p?.close();
    if (hooksBefore === undefined) delete process.env.FN_VMM_TEST_HOOKS;
    else process.env.FN_VMM_TEST_HOOKS = hooksBefore;
  });

  /** One invocation: 'ok' (with its body) for a 200, else the gateway's error type. */
  const invoke = (name: string, path: string): Promise<InvocationOutcome> => invocationOutcome(`${p.url}/fn/volume/${name}${path}`);

  /** CLIENTS loops taking the next kind of `kinds` until none is left; outcomes counted by kind. */
  async function attack(kinds: string[], counts: Record<string, Record<string, number>>, unexplained: string[]): Promise<number> {
    let next = 0;
    let shed = 0;
    const client = async () => {
      while (next < kinds.length) {
        const name = kinds[next++]!;
        const { outcome, detail } = await invoke(name, '/attack');
        if (outcome === 'overloaded') {
          // Shed by the queue, as documented: the attack did not run; it goes round again.
          shed++;
          kinds.push(name);
          continue;
        }
        const byClass = (counts[name] ??= {});
        byClass[outcome] = (byClass[outcome] ?? 0) + 1;
        if (!HOSTILE[name]!.outcomes.includes(outcome) && unexplained.length < 20) unexplained.push(`${name}: ${outcome} ${detail}`);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    return shed;
  }

  it("every answer is its attack's typed error, each function serves after every batch, memory, descriptors and processes stay flat", {
    timeout: scaledTimeout(1_200_000),
  }, async () => {
    const order = plan(TOTAL);
    // Warm-up: every kind a few times (pools fill, caches and the JIT settle); held to the same rules.
    const warmCounts: Record<string, Record<string, number>> = {};
    const warmUnexplained: string[] = [];
    await attack(
      Object.keys(SHARE).flatMap((k) => [k, k, k]),
      warmCounts,
      warmUnexplained,
    );
    expect(warmUnexplained).toEqual([]);
    await new Promise((r) => setTimeout(r, 1000));
    const before = sample();

    const counts: Record<string, Record<string, number>> = {};
    const unexplained: string[] = [];
    const notServedAfter: string[] = [];
    let shed = 0;
    const started = Date.now();
    const perBatch = Math.ceil(order.length / BATCHES);
    for (let b = 0; b < BATCHES; b++) {
      const batch = order.slice(b * perBatch, (b + 1) * perBatch);
      if (batch.length === 0) break;
      shed += await attack([...batch], counts, unexplained);
      // The next invocation is fine: each function attacked in this batch, and a good one.
      for (const name of new Set(batch)) {
        const after = await invoke(name, '/ok');
        if (after.outcome !== 'ok' || after.detail !== 'fine') notServedAfter.push(`batch ${b}: ${name} ${after.outcome} ${after.detail.slice(0, 200)}`);
      }
      const good = await invoke('good', `/after-${b}`);
      if (good.outcome !== 'ok' || good.detail !== `alive /after-${b}`) notServedAfter.push(`batch ${b}: good ${good.outcome} ${good.detail.slice(0, 200)}`);
    }
    const elapsed = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000)); // resets and pool refills after the last answers
    const after = sample();

    const ran = Object.values(counts).reduce((a, byClass) => a + Object.values(byClass).reduce((x, y) => x + y, 0), 0);
    console.info(
      [
        `hostile volume [${p.platform}]: ${ran} hostile invocations in ${elapsed.toFixed(1)} s (${(ran / elapsed).toFixed(0)}/s), ${shed} shed and retried`,
        ...Object.entries(counts).map(([name, byClass]) => `  ${name}: ${JSON.stringify(byClass)}`),
        `  this process: RSS ${(before.rss / MiB).toFixed(1)} → ${(after.rss / MiB).toFixed(1)} MiB, fds ${before.fds} → ${after.fds}`,
        `  processes below it: ${before.children} → ${after.children}, RSS ${(before.childRss / MiB).toFixed(1)} → ${(after.childRss / MiB).toFixed(1)} MiB, fds ${before.childFds} → ${after.childFds}`,
      ].join('\n'),
    );

    expect(unexplained, 'answers no attack explains').toEqual([]);
    expect(notServedAfter, 'functions not served right after a batch').toEqual([]);
    expect(ran).toBe(TOTAL);
    for (const name of Object.keys(SHARE)) expect(Object.keys(counts[name] ?? {}).length, `${name} ran`).toBeGreaterThan(0);
    // Bounds far above noise and far below a leak. Noise: how many VMs the pools hold at the two
    // samples (up to 15 functions × 2 VMs, each a VMM and a guest process with a connection here,
    // plus the standby VMMs) and how many keep-alive connections the clients hold; a leak: ~30
    // responses of 7 MiB and thousands of VM lifecycles pass through, so one response kept per
    // huge-response attack, or one descriptor or process kept per crashed VM, crosses these many
    // times over.
    expect(after.rss - before.rss, `RSS ${Math.round(before.rss / MiB)} → ${Math.round(after.rss / MiB)} MiB`).toBeLessThan(256 * MiB);
    expect(after.fds - before.fds, `fds ${before.fds} → ${after.fds}`).toBeLessThanOrEqual(128);
    expect(after.children - before.children, `processes ${before.children} → ${after.children}`).toBeLessThanOrEqual(160);
    expect(after.childFds - before.childFds, `their fds ${before.childFds} → ${after.childFds}`).toBeLessThanOrEqual(512);
    expect(after.childRss - before.childRss, `their RSS ${Math.round(before.childRss / MiB)} → ${Math.round(after.childRss / MiB)} MiB`).toBeLessThan(
      1024 * MiB,
    );
  });
});
