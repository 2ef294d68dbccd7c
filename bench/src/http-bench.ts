/**
 * npm run bench:http [-- --quick] [-- --json] [-- --backend kvm|ptrace]
 *
 * hello over real HTTP through gateway, scheduler, worker, VMM host and VM, with the load coming
 * from a separate process (load/load-runner.ts: a keep-alive client for latencies, autocannon for
 * throughput), never from the platform's own event loop:
 *
 *   warm      one request at a time, a warm VM ready: p50/p99, and where the time went — the
 *             median of each hop of the platform's Server-Timing header, plus `http` (what the
 *             client saw beyond the gateway's handler: HTTP parsing, loopback, the client)
 *   vm        the VM's own round trip (MicroVM.invoke on a restored VM, reset excluded), in this
 *             run: the floor under the warm figure
 *   cold      the first request of a new version (no warm VM: a restore)
 *   rps       requests per second at a fixed concurrency, a fresh VM state per invocation, over
 *             the same handler on hono + @hono/node-server in its own process (the baseline)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '@fn/cli/api-client';
import { HOPS, parseServerTiming, type Hop } from '@fn/gateway';
import { startPlatform } from '@fn/platform';
import { MicroVM } from '@fn/vmm';
import { startBaseline, runLoad } from './load/spawn.js';
import type { ThroughputResult } from './load/load-runner.js';
import type { SequentialResult } from './load/sequential.js';
import { median, percentile, round } from './stats.js';
import { announceBackend, parseBenchArgs, progress, report } from './report.js';

const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;
const args = parseBenchArgs(process.argv.slice(2));
const counts = args.quick
  ? { warm: 500, warmup: 100, vm: 500, cold: 8, throughputMs: 3000, concurrency: 4 }
  : { warm: 3000, warmup: 300, vm: 3000, cold: 20, throughputMs: 10_000, concurrency: 8 };

/** Median of each hop over the requests, and `http`: the client's latency beyond the handler. */
function hopMedians(run: SequentialResult): Record<string, number> {
  const parsed = run.serverTimings.map(parseServerTiming);
  const out: Record<string, number> = {};
  for (const hop of HOPS) {
    const values = parsed.map((t) => t[hop]).filter((v): v is number => v !== undefined);
    if (values.length > 0) out[hop] = median(values);
  }
  const outside = run.latenciesMs.map((ms, i) => ms - HOPS.reduce((sum, hop: Hop) => sum + (parsed[i]![hop] ?? 0), 0));
  out.http = median(outside);
  return out;
}

/** The VM round trip alone, on a VM restored from the same snapshot the platform serves. */
async function vmRoundTrip(snapshot: Parameters<typeof MicroVM.restore>[0]): Promise<number[]> {
  const vm = await MicroVM.restore(snapshot, { timeoutMs: 5000 });
  try {
    const samples: number[] = [];
    for (let i = 0; i < counts.vm; i++) {
      const started = process.hrtime.bigint();
      await vm.invoke({ url: '/' });
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      await vm.settled(); // the reset is off the response path: not part of the round trip
    }
    return samples;
  } finally {
    vm.close();
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fn-bench-http-'));
  const platform = await startPlatform({
    dataDir,
    port: 0,
    ...(args.backend && args.backend !== 'process' ? { backend: args.backend } : {}),
    // FN_BENCH_REQUEST_LOG=1: the platform's own request log on stdout, to measure what it costs.
    ...(process.env.FN_BENCH_REQUEST_LOG === '1' ? {} : { logger: () => {} }),
  });
  announceBackend(platform.platform);
  const api = new ApiClient({ baseUrl: platform.url, apiKey: platform.newAdminKey, tenant: 'bench' });
  await api.createTenant('bench');
  await api.deploy({ name: 'hello', bundle: HELLO, config: { memoryMiB: 32, timeoutMs: 5000, public: true, maxConcurrency: 64 } });
  const helloUrl = `${platform.url}/fn/bench/hello`;

  progress(`${counts.warm} warm requests, one at a time, from a separate process`);
  const warm = await runLoad<SequentialResult>({ mode: 'sequential', url: helloUrl, count: counts.warm, warmup: counts.warmup });
  const hops = hopMedians(warm);

  progress(`${counts.vm} VM round trips on a restored VM (the floor)`);
  const digest = platform.registry.functions.resolve('bench', 'hello').snapshotDigest;
  const vm = await vmRoundTrip(await platform.deployer.snapshotFor(digest as never));

  progress(`${counts.cold} cold requests (each a new function version: no warm VM)`);
  const names = Array.from({ length: counts.cold }, (_, i) => `cold${i}`);
  for (const name of names) await api.deploy({ name, bundle: HELLO, config: { memoryMiB: 32, timeoutMs: 5000, public: true } });
  const cold = await runLoad<SequentialResult>({ mode: 'each', urls: names.map((n) => `${platform.url}/fn/bench/${n}`) });

  progress(`throughput at concurrency ${counts.concurrency} (autocannon), fresh VM state per invocation`);
  const fn = await runLoad<ThroughputResult>({ mode: 'throughput', url: helloUrl, connections: counts.concurrency, durationMs: counts.throughputMs });
  await platform.close();
  rmSync(dataDir, { recursive: true, force: true });

  progress('baseline: the same handler on hono + @hono/node-server in its own process, no isolation');
  const baseline = await startBaseline();
  const baseRate = await runLoad<ThroughputResult>({
    mode: 'throughput',
    url: `${baseline.url}/hello`,
    connections: counts.concurrency,
    durationMs: counts.throughputMs,
  });
  const baseWarm = await runLoad<SequentialResult>({ mode: 'sequential', url: `${baseline.url}/hello`, count: counts.warm, warmup: counts.warmup });
  await baseline.stop();

  const hopFigures = Object.fromEntries(Object.entries(hops).map(([hop, ms]) => [`hop_${hop}_ms_p50`, round(ms, 3)]));
  const coldHopFigures = Object.fromEntries(Object.entries(hopMedians(cold)).map(([hop, ms]) => [`cold_hop_${hop}_ms_p50`, round(ms, 3)]));
  report(
    'http',
    {
      backend: platform.platform,
      warm_http_ms_p50: round(median(warm.latenciesMs), 3),
      warm_http_ms_p99: round(percentile(warm.latenciesMs, 99), 3),
      vm_roundtrip_ms_p50: round(median(vm), 3),
      vm_roundtrip_ms_p99: round(percentile(vm, 99), 3),
      warm_over_vm_ms_p50: round(median(warm.latenciesMs) - median(vm), 3),
      ...hopFigures,
      cold_http_ms_p50: round(median(cold.latenciesMs), 2),
      cold_http_ms_p99: round(percentile(cold.latenciesMs, 99), 2),
      ...coldHopFigures,
      inprocess_http_ms_p50: round(median(baseWarm.latenciesMs), 3),
      inprocess_http_ms_p99: round(percentile(baseWarm.latenciesMs, 99), 3),
      fn_rps: round(fn.rps, 1),
      fn_non2xx: fn.non2xx,
      inprocess_rps: round(baseRate.rps, 1),
      fresh_throughput_over_inprocess: round(fn.rps / baseRate.rps, 3),
      concurrency: counts.concurrency,
    },
    {
      warm_http_ms_p50: 'hello over HTTP, a warm VM ready, load from a separate process',
      vm_roundtrip_ms_p50: 'MicroVM.invoke alone on a restored VM (reset excluded): the floor',
      warm_over_vm_ms_p50: 'what the platform adds over the VM round trip',
      hop_gateway_ms_p50: 'per-hop medians from Server-Timing (own time of each hop)',
      hop_http_ms_p50: 'client latency beyond the gateway handler: HTTP, loopback, client',
      cold_http_ms_p50: 'first request of a new version: restore + invoke',
      cold_hop_restore_ms_p50: 'per-hop medians of the cold requests (restore: the VM restore alone)',
      inprocess_http_ms_p50: 'baseline: hono + @hono/node-server in its own process, same client',
      fresh_throughput_over_inprocess: 'fn req/s (reset per invocation) ÷ baseline req/s, same concurrency',
    },
    args,
  );
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
});
