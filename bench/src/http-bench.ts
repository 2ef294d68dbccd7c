/**
 * npm run bench:http [-- --quick] [-- --json]
 *
 * hello over real HTTP through gateway, scheduler, worker and VM: warm latency (a warm VM waits),
 * cold latency (a fresh function version, no warm VM), and throughput with a fresh VM state per
 * invocation divided by the same handler served in-process by hono without isolation, at the same
 * concurrency in the same run (the baseline).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { startServer } from '@fn/gateway';
import { ApiClient } from '@fn/cli/api-client';
import { startPlatform } from '@fn/platform';
import { median, percentile, round } from './stats.js';
import { announceBackend, parseBenchArgs, progress, report } from './report.js';

const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;
const args = parseBenchArgs(process.argv.slice(2));
const counts = args.quick ? { warm: 300, cold: 5, throughputMs: 3000, concurrency: 4 } : { warm: 2000, cold: 20, throughputMs: 10_000, concurrency: 8 };

async function timeGet(url: string): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Requests per second at a fixed concurrency for a fixed time. */
async function throughput(url: string): Promise<number> {
  let done = 0;
  const until = Date.now() + counts.throughputMs;
  const loop = async () => {
    while (Date.now() < until) {
      const res = await fetch(url);
      await res.arrayBuffer();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: counts.concurrency }, loop));
  return done / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fn-bench-http-'));
  const platform = await startPlatform({ dataDir, port: 0, ...(args.backend && args.backend !== 'process' ? { backend: args.backend } : {}), logger: () => {} });
  announceBackend(platform.platform);
  const api = new ApiClient({ baseUrl: platform.url, apiKey: platform.newAdminKey, tenant: 'bench' });
  await api.createTenant('bench');
  await api.deploy({ name: 'hello', bundle: HELLO, config: { memoryMiB: 32, timeoutMs: 5000, public: true, maxConcurrency: 64 } });
  const helloUrl = `${platform.url}/fn/bench/hello`;

  progress(`${counts.warm} warm requests`);
  for (let i = 0; i < 50; i++) await timeGet(helloUrl);
  const warm: number[] = [];
  for (let i = 0; i < counts.warm; i++) warm.push(await timeGet(helloUrl));

  progress(`${counts.cold} cold requests (each a new function version: no warm VM)`);
  const cold: number[] = [];
  for (let i = 0; i < counts.cold; i++) {
    const name = `cold${i}`;
    await api.deploy({ name, bundle: HELLO, config: { memoryMiB: 32, timeoutMs: 5000, public: true } });
    cold.push(await timeGet(`${platform.url}/fn/bench/${name}`));
  }

  progress(`throughput at concurrency ${counts.concurrency}, fresh VM state per invocation`);
  const fnRps = await throughput(helloUrl);
  await platform.close();

  progress('baseline: the same handler in-process by hono, no isolation');
  const inprocess = new Hono();
  inprocess.get('/hello', () => new Response('Hello from fn!\n'));
  const baseline = await startServer(inprocess as never, { port: 0 });
  const baseRps = await throughput(`${baseline.url}/hello`);
  const baseWarm: number[] = [];
  for (let i = 0; i < counts.warm; i++) baseWarm.push(await timeGet(`${baseline.url}/hello`));
  await baseline.close();
  rmSync(dataDir, { recursive: true, force: true });

  report(
    'http',
    {
      backend: platform.platform,
      warm_http_ms_p50: round(median(warm), 3),
      warm_http_ms_p99: round(percentile(warm, 99), 3),
      cold_http_ms_p50: round(median(cold), 2),
      cold_http_ms_p99: round(percentile(cold, 99), 2),
      inprocess_http_ms_p50: round(median(baseWarm), 3),
      fn_rps: round(fnRps, 1),
      inprocess_rps: round(baseRps, 1),
      fresh_throughput_over_inprocess: round(fnRps / baseRps, 3),
      concurrency: counts.concurrency,
    },
    {
      warm_http_ms_p50: 'hello over HTTP, a warm VM ready',
      cold_http_ms_p50: 'first request of a new version: restore + invoke',
      inprocess_http_ms_p50: 'baseline: hono in-process, same client',
      fresh_throughput_over_inprocess: 'fn req/s (reset per invocation) ÷ in-process req/s',
    },
    args,
  );
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
});
