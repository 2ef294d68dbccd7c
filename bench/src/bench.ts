/**
 * npm run bench [-- --quick] [-- --json] [-- --backend kvm|ptrace] [-- --rounds N] [-- --compare <result.json>]
 *
 * fn's cold and warm starts side by side with what a user would pick instead, all in one run on
 * one machine, every system answering the same hello and JSON echo, every load from a separate
 * process (load/load-runner.ts):
 *
 *   fn warm              a warm VM answers (keep-alive client, one request at a time)
 *   fn cold              the first answer of a new version: restore of its snapshot
 *   fn deploy → first    deploy a new version through the API, then its first answer
 *   fn mixed             a constant arrival rate over many functions, never invoked before: the
 *                        first answers (and VMs added under concurrency) cold, the rest warm
 *   in-process hono      the handler with no isolation in its own process: the floor
 *   node process         a new `node` process per request
 *   crun / runc          a container per request (OCI bundle from read-only host dirs)
 *   runsc                gVisor, `--platform=ptrace`, a sandbox per request
 *
 * and fresh-state throughput (autocannon) of fn against the in-process floor. Progress on stderr;
 * the table on stdout; with --json the figures as one JSON object on the last line. Writes
 * bench/results/<date>-<machine>.{json,md,svg} and the latest section of bench/README.md.
 *
 * --rounds N repeats the whole set N times, interleaved (every system once per round), and records
 * each figure's noise from the spread of its per-round values; --compare <result.json> (3 rounds
 * unless told) then prints the change of each figure against that saved run (compare.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '@fn/cli/api-client';
import { startPlatform } from '@fn/platform';
import type { ArrivalResult } from './load/arrival.js';
import type { DeployFirstResult } from './load/deploy-first.js';
import type { ThroughputResult } from './load/load-runner.js';
import type { SequentialResult } from './load/sequential.js';
import { runLoad, startBaseline } from './load/spawn.js';
import { reportedBackend } from './nested.js';
import { ECHO_BODY, ECHO_SENT, HELLO_BODY, measurePeer, PEERS } from './peers/peers.js';
import { compare, compareTable, noiseOf } from './compare.js';
import { announceBackend, parseBenchArgs, progress } from './report.js';
import { figures, markdownTable, targets, writeResults, type SystemResult } from './side-by-side.js';
import { median, round } from './stats.js';

const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;
const ECHO = `export default { async fetch(req) { return Response.json({ echo: await req.json() }); } };`;

const args = parseBenchArgs(process.argv.slice(2));
const counts = args.quick
  ? { warm: 300, warmup: 100, cold: 10, node: 10, container: 8, gvisor: 4, throughputMs: 3000, concurrency: 4, mixedFunctions: 8, mixedRate: 20, mixedMs: 5000 }
  : {
      warm: 2000,
      warmup: 300,
      cold: 40,
      node: 40,
      container: 30,
      gvisor: 15,
      throughputMs: 10_000,
      concurrency: 8,
      mixedFunctions: 20,
      mixedRate: 30,
      mixedMs: 20_000,
    };

const echoShape = { body: JSON.stringify(ECHO_SENT), expect: ECHO_BODY };
const reasonOf = (e: unknown) =>
  String((e as Error).message ?? e)
    .replace(/\s+/g, ' ')
    .slice(0, 400);

async function measureFn(systems: SystemResult[]): Promise<{ fnRps: number | null; backend: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fn-bench-'));
  const platform = await startPlatform({
    dataDir,
    port: 0,
    ...(args.backend && args.backend !== 'process' ? { backend: args.backend } : {}),
    logger: () => {},
  });
  try {
    announceBackend(platform.platform);
    const isolation = platform.platform === 'kvm' ? 'VM' : `VM stand-in (${platform.platform} backend: process + ptrace, no KVM)`;
    const api = new ApiClient({ baseUrl: platform.url, apiKey: platform.newAdminKey, tenant: 'bench' });
    await api.createTenant('bench');
    const config = { memoryMiB: 32, timeoutMs: 5000, public: true, maxConcurrency: 64 };
    await api.deploy({ name: 'hello', bundle: HELLO, config });
    await api.deploy({ name: 'echo', bundle: ECHO, config });
    const url = (name: string) => `${platform.url}/fn/bench/${name}`;

    progress(`fn warm: ${counts.warm} hellos and ${counts.warm} echoes, one at a time`);
    const hello = await runLoad<SequentialResult>({ mode: 'sequential', url: url('hello'), count: counts.warm, warmup: counts.warmup, expect: HELLO_BODY });
    const echo = await runLoad<SequentialResult>({ mode: 'sequential', url: url('echo'), count: counts.warm, warmup: counts.warmup, ...echoShape });
    const warmOnly = (r: SequentialResult) => r.latenciesMs.filter((_, i) => r.colds[i] === false);
    systems.push({ key: 'fn_warm', label: 'fn warm', isolation, kind: 'warm', hello: warmOnly(hello), echo: warmOnly(echo) });

    progress(`fn cold: ${counts.cold} rounds of deploy a new version → its first answer`);
    const cold = await runLoad<DeployFirstResult>({
      mode: 'deploy-first',
      baseUrl: platform.url,
      apiKey: platform.newAdminKey!,
      tenant: 'bench',
      name: 'fresh',
      bundle: HELLO,
      rounds: counts.cold,
      expect: HELLO_BODY,
    });
    const coldMs = cold.firstMs.filter((_, i) => cold.colds[i] === true);
    const notCold = cold.colds.filter((c) => c !== true).length;
    systems.push({
      key: 'fn_cold',
      label: 'fn cold (new version: restore)',
      isolation,
      kind: 'start',
      hello: coldMs,
      echo: null,
      ...(notCold ? { reason: `${notCold} first answers were not cold and are left out` } : {}),
    });
    systems.push({
      key: 'fn_deploy_to_first',
      label: 'fn deploy → first answer',
      isolation,
      kind: 'start',
      hello: cold.deployMs.map((d, i) => d + cold.firstMs[i]!),
      echo: null,
    });

    progress(`fn mixed: ${counts.mixedRate} req/s for ${counts.mixedMs / 1000} s over ${counts.mixedFunctions} new functions`);
    const names = Array.from({ length: counts.mixedFunctions }, (_, i) => `mixed${i}`);
    for (const name of names) await api.deploy({ name, bundle: HELLO, config });
    const mixed = await runLoad<ArrivalResult>({
      mode: 'arrival',
      urls: names.map(url),
      expect: HELLO_BODY,
      rate: counts.mixedRate,
      durationMs: counts.mixedMs,
    });
    const mixedErrors =
      mixed.errors.length > 0
        ? { reason: `${mixed.errors.length} of ${mixed.errors.length + mixed.latenciesMs.length} requests failed, e.g. ${mixed.errors[0]}` }
        : {};
    const label = `fn mixed, ${counts.mixedRate} req/s over ${counts.mixedFunctions} fns`;
    systems.push({
      key: 'fn_mixed_warm',
      label: `${label}: warm`,
      isolation,
      kind: 'warm',
      hello: mixed.latenciesMs.filter((_, i) => mixed.colds[i] === false),
      echo: null,
      ...mixedErrors,
    });
    systems.push({
      key: 'fn_mixed_cold',
      label: `${label}: cold`,
      isolation,
      kind: 'start',
      hello: mixed.latenciesMs.filter((_, i) => mixed.colds[i] === true),
      echo: null,
    });

    progress(`fn fresh-state throughput: autocannon, ${counts.concurrency} connections, ${counts.throughputMs / 1000} s`);
    const rate = await runLoad<ThroughputResult>({ mode: 'throughput', url: url('hello'), connections: counts.concurrency, durationMs: counts.throughputMs });
    return { fnRps: rate.non2xx === 0 && rate.errors === 0 ? rate.rps : null, backend: platform.platform };
  } finally {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureInProcess(systems: SystemResult[]): Promise<{ rps: number | null }> {
  progress('in-process hono (no isolation, its own process): hello, echo, throughput');
  const baseline = await startBaseline();
  try {
    const hello = await runLoad<SequentialResult>({
      mode: 'sequential',
      url: `${baseline.url}/hello`,
      count: counts.warm,
      warmup: counts.warmup,
      expect: HELLO_BODY,
    });
    const echo = await runLoad<SequentialResult>({ mode: 'sequential', url: `${baseline.url}/echo`, count: counts.warm, warmup: counts.warmup, ...echoShape });
    systems.push({ key: 'inprocess', label: 'in-process hono (floor)', isolation: 'none', kind: 'warm', hello: hello.latenciesMs, echo: echo.latenciesMs });
    const rate = await runLoad<ThroughputResult>({
      mode: 'throughput',
      url: `${baseline.url}/hello`,
      connections: counts.concurrency,
      durationMs: counts.throughputMs,
    });
    return { rps: rate.rps };
  } catch (e) {
    systems.push({ key: 'inprocess', label: 'in-process hono (floor)', isolation: 'none', kind: 'warm', hello: null, echo: null, reason: reasonOf(e) });
    return { rps: null };
  } finally {
    await baseline.stop();
  }
}

interface Round {
  systems: SystemResult[];
  fnRps: number | null;
  inprocessRps: number | null;
  backend: string;
}

async function measureRound(): Promise<Round> {
  const systems: SystemResult[] = [];
  const { rps: inprocessRps } = await measureInProcess(systems);
  const { fnRps, backend } = await measureFn(systems);
  for (const peer of PEERS) {
    const count = peer.key === 'node_process' ? counts.node : peer.key === 'runsc' ? counts.gvisor : counts.container;
    progress(`${peer.label}: ${count} hellos and ${count} echoes`);
    try {
      const run = await measurePeer(peer, count, 1);
      systems.push({ key: peer.key, label: peer.label, isolation: peer.isolation, kind: 'start', ...run });
    } catch (e) {
      progress(`${peer.key} cannot run here: ${reasonOf(e)}`);
      systems.push({ key: peer.key, label: peer.label, isolation: peer.isolation, kind: 'start', hello: null, echo: null, reason: reasonOf(e) });
    }
  }
  return { systems, fnRps, inprocessRps, backend };
}

/** The rounds' samples pooled per system; a system that failed in any round keeps that reason. */
function pool(rounds: Round[]): SystemResult[] {
  return rounds[0]!.systems.map((first) => {
    const all = rounds.map((r) => r.systems.find((s) => s.key === first.key)!);
    const cat = (pick: (s: SystemResult) => number[] | null) => (all.every((s) => pick(s)) ? all.flatMap((s) => pick(s)!) : null);
    const reason = all.find((s) => s.reason)?.reason;
    return { ...first, hello: cat((s) => s.hello), echo: cat((s) => s.echo), ...(reason ? { reason } : {}) };
  });
}

const medianOrNull = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
};

async function main(): Promise<void> {
  const started = Date.now();
  const at = new Date().toISOString();
  const load = loadavg()[0]!;
  const baseline = args.compare ? (JSON.parse(readFileSync(args.compare, 'utf8')) as Record<string, unknown>) : undefined;
  const roundCount = args.rounds ?? (args.compare ? 3 : 1);
  const rounds: Round[] = [];
  for (let r = 0; r < roundCount; r++) {
    if (roundCount > 1) progress(`round ${r + 1} of ${roundCount}`);
    rounds.push(await measureRound());
  }
  const systems = pool(rounds);
  const backend = rounds[0]!.backend;
  const fnRps = medianOrNull(rounds.map((r) => r.fnRps));
  const inprocessRps = medianOrNull(rounds.map((r) => r.inprocessRps));
  const noise = noiseOf(rounds.map((r) => figures(r.systems, { fn_rps: r.fnRps })));
  // Order for reading: the warm path, then everything that starts something per request.
  const order = ['inprocess', 'fn_warm', 'fn_mixed_warm', 'fn_cold', 'fn_mixed_cold', 'node_process', 'crun', 'runc', 'runsc', 'fn_deploy_to_first'];
  systems.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));

  const shownBackend = reportedBackend(backend);
  const record = figures(systems, {
    bench: 'side-by-side',
    at,
    machine: hostname(),
    cpus: cpus().length,
    load_average_1m_at_start: round(load, 2),
    quick: args.quick,
    backend: shownBackend,
    fn_rps: fnRps === null ? null : round(fnRps, 1),
    inprocess_rps: inprocessRps === null ? null : round(inprocessRps, 1),
    fresh_throughput_over_inprocess: fnRps !== null && inprocessRps ? round(fnRps / inprocessRps, 4) : null,
    concurrency: counts.concurrency,
    rounds: roundCount,
    noise: Object.fromEntries(Object.entries(noise).map(([k, v]) => [k, round(v, 4)])),
    ...(args.compare ? { compared_to: args.compare } : {}),
    duration_s: round((Date.now() - started) / 1000, 1),
  });
  const header = `fn side by side — ${at.slice(0, 16)}Z on ${hostname()} (${cpus().length} CPUs, load ${round(load, 2)} at start), fn backend ${shownBackend}${args.quick ? ', --quick' : ''}. Latency of one hello per request, ms; echo p50 alongside. "vs fn" compares warm-path systems with fn warm and start-per-request systems with fn cold. Throughput with a fresh state per invocation: fn ${record.fn_rps ?? '—'} req/s, in-process ${record.inprocess_rps ?? '—'} req/s (${counts.concurrency} connections).`;
  const files = writeResults(record, systems, header);
  process.stdout.write(`\n${header}\n\n${markdownTable(systems)}\n\n`);
  for (const [k, v] of Object.entries(targets(record))) process.stdout.write(`  ${k}: ${v}\n`);
  process.stdout.write(`\n  saved ${files.json}\n        ${files.md}\n        ${files.svg}\n`);
  if (baseline) {
    if (baseline.quick !== record.quick || baseline.concurrency !== record.concurrency)
      process.stdout.write(
        `\nNote: the baseline was a ${baseline.quick ? '--quick' : 'full'} run at concurrency ${String(baseline.concurrency)}, this one ${record.quick ? '--quick' : 'full'} at ${String(record.concurrency)}: throughput and tails are not like for like.\n`,
      );
    process.stdout.write(
      `\nCompared with ${args.compare} (${String(baseline.at ?? '?')}, backend ${String(baseline.backend ?? '?')}); informs, never fails:\n\n${compareTable(compare(baseline, record))}\n`,
    );
  }
  if (args.json) process.stdout.write(`${JSON.stringify(record)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
});
