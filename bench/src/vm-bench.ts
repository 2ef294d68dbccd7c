/**
 * npm run bench:vm [-- --quick] [-- --json]
 *
 * The microVM core's figures: boot (VM create → runtime ready), load (function load + init), hello
 * round trip (≥1000 invocations on one VM), fib(27) in the guest over the same JS in a plain Linux
 * build of the same QuickJS sources, and host memory per VM. Baselines are measured in the same
 * run: the same hello handler called in-process by Node (no isolation), and host-built QuickJS.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroVM, choosePlatform } from '@fn/vmm';
import { qjsNativePath } from '@fn/guest';
import { median, percentile, round } from './stats.js';
import { announceBackend, parseBenchArgs, progress, report } from './report.js';

const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;
const FIB_SOURCE = `function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }`;
const FIB_N = 27;

const args = parseBenchArgs(process.argv.slice(2));
const backend = args.backend ?? choosePlatform('auto');
const counts = args.quick ? { boots: 10, invokes: 1000, fibRuns: 3, vmsForRss: 10 } : { boots: 50, invokes: 5000, fibRuns: 5, vmsForRss: 50 };

async function measureBootAndLoad(): Promise<{ boot: number[]; load: number[] }> {
  const boot: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < counts.boots; i++) {
    const vm = await MicroVM.boot({ backend, memoryMiB: 64 });
    boot.push(vm.bootMs);
    load.push((await vm.load(HELLO)).loadMs);
    vm.close();
  }
  return { boot, load };
}

async function measureInvoke(): Promise<number[]> {
  const vm = await MicroVM.boot({ backend, memoryMiB: 64 });
  await vm.load(HELLO);
  for (let i = 0; i < 100; i++) await vm.invoke({}); // warm up the host side (JIT, allocator)
  const samples: number[] = [];
  for (let i = 0; i < counts.invokes; i++) {
    const started = process.hrtime.bigint();
    await vm.invoke({});
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  vm.close();
  return samples;
}

/** The same handler with no isolation at all: Node calling fetch() on the module directly. */
async function measureInProcessBaseline(): Promise<number[]> {
  const handler = { fetch: () => new Response('Hello from fn!\n') };
  const samples: number[] = [];
  for (let i = 0; i < counts.invokes; i++) {
    const started = process.hrtime.bigint();
    const res = handler.fetch();
    await res.arrayBuffer();
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return samples;
}

async function measureFibInGuest(): Promise<number[]> {
  const vm = await MicroVM.boot({ backend, memoryMiB: 64, timeoutMs: 60_000 });
  await vm.load(`${FIB_SOURCE}
export default { fetch() { const t = performance.now(); const r = fib(${FIB_N}); return Response.json({ ms: performance.now() - t, r }); } };`);
  const ms: number[] = [];
  for (let i = 0; i < counts.fibRuns; i++) {
    const r = await vm.invoke({});
    ms.push(JSON.parse(r.response.body.toString()).ms);
  }
  vm.close();
  return ms;
}

function measureFibOnHost(): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'fn-bench-'));
  const script = join(dir, 'fib.js');
  writeFileSync(script, `${FIB_SOURCE}\nconst t = now(); const r = fib(${FIB_N}); print(JSON.stringify({ ms: now() - t, r }));\n`);
  const ms: number[] = [];
  for (let i = 0; i < counts.fibRuns; i++) {
    ms.push(JSON.parse(execFileSync(qjsNativePath, [script], { encoding: 'utf8' })).ms);
  }
  return ms;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
}

/** A VMM process and its children (the ptrace VMM's traced guest is its child). */
function treeRssKiB(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    children = [];
  }
  return rssKiB(pid) + children.reduce((sum, child) => sum + rssKiB(child), 0);
}

async function measureRssPerVm(): Promise<number> {
  const before = rssKiB(process.pid);
  const vms: MicroVM[] = [];
  for (let i = 0; i < counts.vmsForRss; i++) {
    const vm = await MicroVM.boot({ backend, memoryMiB: 64 });
    await vm.load(HELLO);
    await vm.invoke({});
    vms.push(vm);
  }
  // KVM guests live in this process; sandboxed guests each in their own.
  const perVm = backend === 'kvm' ? (rssKiB(process.pid) - before) / vms.length : vms.reduce((sum, vm) => sum + treeRssKiB(vm.hostPid), 0) / vms.length;
  for (const vm of vms) vm.close();
  return perVm;
}

async function main(): Promise<void> {
  announceBackend(backend);
  progress(`booting ${counts.boots} VMs`);
  const { boot, load } = await measureBootAndLoad();
  progress(`${counts.invokes} hello invocations on one VM`);
  const invoke = await measureInvoke();
  const baseline = await measureInProcessBaseline();
  progress(`fib(${FIB_N}) ×${counts.fibRuns} in the guest and on the host`);
  const fibGuest = await measureFibInGuest();
  const fibHost = measureFibOnHost();
  progress(`holding ${counts.vmsForRss} VMs for memory`);
  const rss = await measureRssPerVm();

  report(
    'vm',
    {
      backend,
      boot_ms_p50: round(median(boot), 3),
      boot_ms_p99: round(percentile(boot, 99), 3),
      load_ms_p50: round(median(load), 3),
      invoke_us_p50: round(median(invoke), 1),
      invoke_us_p99: round(percentile(invoke, 99), 1),
      invocations: invoke.length,
      inprocess_us_p50: round(median(baseline), 2),
      inprocess_us_p99: round(percentile(baseline, 99), 2),
      fib_guest_ms_p50: round(median(fibGuest), 2),
      fib_host_ms_p50: round(median(fibHost), 2),
      fib_guest_over_host: round(median(fibGuest) / median(fibHost), 3),
      rss_kib_per_vm: Math.round(rss),
    },
    {
      boot_ms_p50: 'VM create → runtime READY',
      load_ms_p50: 'function load + init',
      invoke_us_p50: 'hello round trip, host view',
      inprocess_us_p50: 'baseline: same handler in Node, no isolation',
      fib_guest_over_host: `fib(${FIB_N}) guest ÷ qjs-native (same QuickJS, plain Linux)`,
      rss_kib_per_vm: backend === 'kvm' ? 'host RSS growth per idle VM' : 'RSS of each stand-in VMM process tree',
    },
    args,
  );
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
