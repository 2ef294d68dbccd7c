/**
 * npm run bench:nats [-- --quick] [-- --json] [-- --backend kvm|ptrace]
 *
 * hello over HTTP, warm, through the one-process platform (in-process bus) and through the roles
 * over NATS, in the same run (the in-process figures are the baseline):
 *
 *   inprocess   `startPlatform`: gateway, scheduler and worker in one process, no NATS
 *   nats_1w     a real nats-server; gateway and scheduler roles in this process (each its own NATS
 *               connection, so every hop crosses NATS over loopback TCP), one worker process
 *   nats_2w     the same with a second worker process
 *
 * Latency: one request at a time from a separate process (p50/p99). Throughput: autocannon at a
 * fixed concurrency, also from a separate process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '@fn/cli/api-client';
import { startPlatform, startRole, type RunningRole } from '@fn/platform';
import { runLoad } from './load/spawn.js';
import type { ThroughputResult } from './load/load-runner.js';
import type { SequentialResult } from './load/sequential.js';
import { median, percentile, round } from './stats.js';
import { announceBackend, parseBenchArgs, progress, report } from './report.js';

const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;
const args = parseBenchArgs(process.argv.slice(2));
const counts = args.quick ? { warm: 300, warmup: 50, throughputMs: 3000, concurrency: 4 } : { warm: 2000, warmup: 200, throughputMs: 10_000, concurrency: 8 };
const backend = args.backend && args.backend !== 'process' ? args.backend : undefined;
const root = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcess[] = [];
const temps: string[] = [];

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

interface Measured {
  warm: SequentialResult;
  rate: ThroughputResult;
}

async function measure(url: string): Promise<Measured> {
  const warm = await runLoad<SequentialResult>({ mode: 'sequential', url, count: counts.warm, warmup: counts.warmup });
  const rate = await runLoad<ThroughputResult>({ mode: 'throughput', url, connections: counts.concurrency, durationMs: counts.throughputMs });
  return { warm, rate };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a process and resolves once its output matches `ready`. */
function startProcess(command: string, argv: string[], ready: RegExp, what: string): Promise<ChildProcess> {
  const child = spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${what}: ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)));
    const poll = setInterval(() => {
      if (ready.test(out)) {
        clearInterval(poll);
        resolve(child);
      }
    }, 20);
  });
}

async function startNats(): Promise<string> {
  const port = await freePort();
  const bin = process.env.FN_NATS_SERVER ?? 'nats-server';
  await startProcess(
    bin,
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', temp('fn-bench-nats-')],
    /Server is ready/,
    'nats-server (install it: apt-get install nats-server)',
  );
  return `nats://127.0.0.1:${port}`;
}

function startWorker(nats: string, id: string): Promise<ChildProcess> {
  const argv = [
    join(root, 'cli/bin/fn.js'),
    'up',
    '--role',
    'worker',
    '--nats',
    nats,
    '--data',
    temp(`fn-bench-${id}-`),
    '--worker-id',
    id,
    ...(backend ? ['--backend', backend] : []),
  ];
  return startProcess(process.execPath, argv, new RegExp(`fn worker ${id} is up`), `worker ${id}`);
}

/** Until the URL answers 200 (a new worker is heard by the scheduler within a report interval). */
async function untilServed(url: string): Promise<void> {
  for (const start = Date.now(); ; ) {
    const r = await fetch(url).catch(() => undefined);
    if (r?.status === 200) return;
    if (Date.now() - start > 60_000) throw new Error(`${url} did not answer 200 within 60 s (last: ${r?.status})`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function main(): Promise<void> {
  progress('in-process: the one-process platform');
  const platform = await startPlatform({ dataDir: temp('fn-bench-inproc-'), port: 0, ...(backend ? { backend } : {}), logger: () => {} });
  announceBackend(platform.platform);
  const api = new ApiClient({ baseUrl: platform.url, apiKey: platform.newAdminKey, tenant: 'bench' });
  await api.createTenant('bench');
  await api.deploy({ name: 'hello', bundle: HELLO, config: { memoryMiB: 32, timeoutMs: 5000, public: true, maxConcurrency: 64 } });
  await untilServed(`${platform.url}/fn/bench/hello`);
  const inprocess = await measure(`${platform.url}/fn/bench/hello`);
  await platform.close();

  progress('NATS: nats-server, scheduler and gateway roles, one worker process');
  const nats = await startNats();
  const roles: RunningRole[] = [];
  roles.push(await startRole({ role: 'scheduler', nats, logger: () => {} }));
  const gateway = await startRole({ role: 'gateway', nats, dataDir: temp('fn-bench-gw-'), port: 0, logger: () => {} });
  roles.push(gateway);
  await startWorker(nats, 'w1'); // It builds the deploy: the gateway runs no VMs.
  const gwApi = new ApiClient({ baseUrl: gateway.url!, apiKey: gateway.newAdminKey, tenant: 'bench' });
  await gwApi.createTenant('bench');
  await gwApi.deploy({ name: 'hello', bundle: HELLO, config: { memoryMiB: 32, timeoutMs: 5000, public: true, maxConcurrency: 64 } });
  const url = `${gateway.url}/fn/bench/hello`;
  await untilServed(url);
  const one = await measure(url);

  progress('NATS: a second worker process');
  await startWorker(nats, 'w2');
  await new Promise((res) => setTimeout(res, 2_500)); // Its first capacity report reaches the scheduler.
  const two = await measure(url);

  for (const role of roles.reverse()) await role.close();
  const p50 = (m: Measured) => round(median(m.warm.latenciesMs), 3);
  const p99 = (m: Measured) => round(percentile(m.warm.latenciesMs, 99), 3);
  report(
    'nats',
    {
      backend: platform.platform,
      inprocess_warm_ms_p50: p50(inprocess),
      inprocess_warm_ms_p99: p99(inprocess),
      inprocess_rps: round(inprocess.rate.rps, 1),
      nats_1w_warm_ms_p50: p50(one),
      nats_1w_warm_ms_p99: p99(one),
      nats_1w_rps: round(one.rate.rps, 1),
      nats_1w_non2xx: one.rate.non2xx,
      nats_2w_warm_ms_p50: p50(two),
      nats_2w_warm_ms_p99: p99(two),
      nats_2w_rps: round(two.rate.rps, 1),
      nats_2w_non2xx: two.rate.non2xx,
      nats_over_inprocess_p50: round(p50(one) / p50(inprocess), 3),
      nats_over_inprocess_rps: round(one.rate.rps / inprocess.rate.rps, 3),
      concurrency: counts.concurrency,
    },
    {
      inprocess_warm_ms_p50: 'one process, in-process bus: the baseline of this run',
      nats_1w_warm_ms_p50: 'gateway → NATS → scheduler → NATS (claim, invoke) → worker process',
      nats_2w_rps: 'two worker processes sharing the load (same 2-core machine)',
      nats_over_inprocess_p50: 'warm p50 over NATS (1 worker) ÷ in-process',
    },
    args,
  );
}

main()
  .catch((err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? (err as Error).message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });
