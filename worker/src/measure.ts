/**
 * npm run measure -w @fn/worker [-- --json] [--runs N]
 *
 * Cold and warm invocation latency through the worker (VMM host processes, IPC, pools), with the
 * same operations done directly on an in-process MicroVM in the same run as the baseline: the
 * difference is what the host hop costs. Cold = a restore for this request (a fresh pool key per
 * call); warm = an idle pooled VM. Records numbers; never passes or fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { choosePlatform, MicroVM, type VmSnapshot } from '@fn/vmm';
import { Worker } from './worker.js';

const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;
const json = process.argv.includes('--json');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 200;
const COLD_RUNS = Math.max(10, Math.floor(RUNS / 4));
const log = (message: string) => process.stderr.write(`measure: ${message}\n`);

function summary(samples: number[]): { n: number; p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { n: sorted.length, p50: r(at(0.5)), p99: r(at(0.99)) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const platform = choosePlatform('auto');
if (platform === 'process') {
  log('no snapshot backend here (no /dev/kvm, ptrace VMM unusable): nothing to measure');
  process.exit(0);
}
const scratch = mkdtempSync(join(tmpdir(), 'fn-worker-measure-'));
const bootVm = await MicroVM.boot({ backend: platform, memoryMiB: 64 });
await bootVm.load(HELLO, { name: 'hello' });
const snapshot: VmSnapshot = await bootVm.snapshot(scratch);
bootVm.close();
log(`backend ${platform}; ${COLD_RUNS} cold and ${RUNS} warm invocations each way`);

// Baseline: the same work on MicroVMs in this process.
const directCold: number[] = [];
for (let i = 0; i < COLD_RUNS; i++) {
  let vm: MicroVM | undefined;
  directCold.push(
    await timed(async () => {
      vm = await MicroVM.restore(snapshot);
      await vm.invoke({});
    }),
  );
  vm!.close();
}
const directVm = await MicroVM.restore(snapshot);
await directVm.invoke({});
const directWarm: number[] = [];
for (let i = 0; i < RUNS; i++) directWarm.push(await timed(() => directVm.invoke({})));
directVm.close();

// Through the worker: 2 VMM hosts, no spare VMs (every cold call restores exactly one VM).
const worker = await Worker.start({ hosts: 2, spare: 0, maxVms: COLD_RUNS + 10 });
const workerCold: number[] = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const r = await worker.invoke({ key: `cold-${i}`, snapshot });
  if (!r.cold) throw new Error('expected a cold start');
  workerCold.push(r.durations.totalMs);
}
await worker.invoke({ key: 'warm', snapshot });
const workerWarm: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await worker.invoke({ key: 'warm', snapshot });
  if (r.cold) throw new Error('expected a warm invocation');
  workerWarm.push(r.durations.totalMs);
}
const hosts = await worker.hostStats();
const metrics = worker.metrics();
await worker.close();
rmSync(scratch, { recursive: true, force: true });

const vms = hosts.reduce((s, h) => s + h.vms, 0);
const result = {
  backend: platform,
  worker_cold_ms: summary(workerCold),
  worker_warm_ms: summary(workerWarm),
  direct_cold_ms: summary(directCold),
  direct_warm_ms: summary(directWarm),
  hosts: hosts.map((h) => ({ vms: h.vms, rssKiB: h.rssKiB })),
  rss_kib_per_vm_incl_host: vms > 0 ? Math.round(hosts.reduce((s, h) => s + h.rssKiB, 0) / vms) : 0,
  worker_metrics_latency_ms: metrics.latencyMs,
};
const row = (name: string, s: { n: number; p50: number; p99: number }) =>
  `${name.padEnd(28)} n=${String(s.n).padStart(4)}  p50 ${s.p50.toFixed(3).padStart(8)} ms  p99 ${s.p99.toFixed(3).padStart(8)} ms`;
process.stdout.write(
  [
    row('worker cold (restore+invoke)', result.worker_cold_ms),
    row('worker warm (pooled VM)', result.worker_warm_ms),
    row('direct cold (in-process)', result.direct_cold_ms),
    row('direct warm (in-process)', result.direct_warm_ms),
    `hosts: ${hosts.map((h) => `${h.vms} VMs / ${h.rssKiB} KiB RSS`).join(', ')}`,
    '',
  ].join('\n'),
);
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
