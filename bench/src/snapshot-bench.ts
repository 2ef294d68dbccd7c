/**
 * npm run bench:snapshot [-- --quick] [-- --json]
 *
 * Snapshot figures: taking a base and a layered function snapshot, restoring into new VMs, resetting
 * in place after every invocation, what a reset costs the next invocation, and how many restored
 * idle VMs this machine holds. Baselines from the same run: a cold boot + load (what a restore
 * replaces) and hello on a VM that is never reset (what post_reset_penalty divides by).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroVM, probeKvm, type VmSnapshot } from '@fn/vmm';
import { median, percentile, round } from './stats.js';
import { announceBackend, parseBenchArgs, progress, report } from './report.js';

const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;
const args = parseBenchArgs(process.argv.slice(2));
const backend = args.backend ?? (probeKvm().ok ? 'kvm' : 'ptrace');
const counts = args.quick ? { snapshots: 5, restores: 30, invokes: 1000, held: 100 } : { snapshots: 10, restores: 200, invokes: 5000, held: 1000 };
const scratch = mkdtempSync(join(tmpdir(), 'fn-bench-snapshot-'));
let dirs = 0;
const newDir = () => join(scratch, String(dirs++));

const elapsedUs = (started: bigint) => Number(process.hrtime.bigint() - started) / 1000;

async function takeSnapshots(): Promise<{ base: VmSnapshot; fn: VmSnapshot; baseMs: number[]; fnMs: number[]; baseKiB: number; fnKiB: number }> {
  const baseMs: number[] = [];
  const fnMs: number[] = [];
  let base!: VmSnapshot;
  let fn!: VmSnapshot;
  for (let i = 0; i < counts.snapshots; i++) {
    const baseVm = await MicroVM.boot({ backend });
    base = await baseVm.snapshot(newDir());
    baseMs.push(base.ms);
    baseVm.close();
    const fnDir = newDir();
    mkdirSync(fnDir); // the restored VMM may write beneath an existing directory only
    const fnVm = await MicroVM.restore(base, { snapshotDir: fnDir });
    await fnVm.load(HELLO, { name: 'hello' });
    fn = await fnVm.snapshot(fnDir, { base });
    fnMs.push(fn.ms);
    fnVm.close();
  }
  return { base, fn, baseMs, fnMs, baseKiB: base.pages * 4, fnKiB: fn.diffPages * 4 };
}

async function measureRestore(fn: VmSnapshot): Promise<{ restoreMs: number[]; firstInvokeUs: number[] }> {
  const restoreMs: number[] = [];
  const firstInvokeUs: number[] = [];
  for (let i = 0; i < counts.restores; i++) {
    const started = performance.now();
    const vm = await MicroVM.restore(fn);
    restoreMs.push(performance.now() - started);
    const t = process.hrtime.bigint();
    await vm.invoke({}); // pays the first-touch faults of the pages hello needs
    firstInvokeUs.push(elapsedUs(t));
    vm.close();
  }
  return { restoreMs, firstInvokeUs };
}

async function measureColdBoot(): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < Math.min(counts.restores, 30); i++) {
    const started = performance.now();
    const vm = await MicroVM.boot({ backend });
    await vm.load(HELLO);
    ms.push(performance.now() - started);
    vm.close();
  }
  return ms;
}

/** hello + the reset after it, back to back, as a pooled VM serves invocations. */
async function measureResetInvoke(fn: VmSnapshot): Promise<{ resetInvokeUs: number[]; afterResetUs: number[]; dirtyPages: number[]; resetUs: number[] }> {
  const vm = await MicroVM.restore(fn);
  const resetInvokeUs: number[] = [];
  const afterResetUs: number[] = [];
  const dirtyPages: number[] = [];
  const resetUs: number[] = [];
  for (let i = 0; i < 100; i++) await vm.invoke({});
  await vm.settled();
  for (let i = 0; i < counts.invokes; i++) {
    const started = process.hrtime.bigint();
    await vm.invoke({});
    afterResetUs.push(elapsedUs(started));
    await vm.settled();
    resetInvokeUs.push(elapsedUs(started));
    dirtyPages.push(vm.lastReset!.dirtyPages);
    resetUs.push(vm.lastReset!.us);
  }
  vm.close();
  return { resetInvokeUs, afterResetUs, dirtyPages, resetUs };
}

/** The same hello on a VM that is never reset: the baseline for post_reset_penalty. */
async function measureNoReset(fn: VmSnapshot): Promise<number[]> {
  const vm = await MicroVM.restore(fn);
  vm.resetAfterInvoke = false;
  const us: number[] = [];
  for (let i = 0; i < 100; i++) await vm.invoke({});
  for (let i = 0; i < counts.invokes; i++) {
    const started = process.hrtime.bigint();
    await vm.invoke({});
    us.push(elapsedUs(started));
  }
  vm.close();
  return us;
}

function privateKiB(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(rollup)?.[1] ?? 0);
    return field('Private_Clean') + field('Private_Dirty');
  } catch {
    return 0;
  }
}

/** Private memory of the processes holding a VM: the VMM and, for ptrace, its traced guest. */
function vmPrivateKiB(vm: MicroVM): number {
  if (vm.platform === 'kvm') return Number.NaN; // all VMs share this process: measured as a delta instead
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${vm.hostPid}/task/${vm.hostPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    children = [];
  }
  return privateKiB(vm.hostPid) + children.reduce((sum, pid) => sum + privateKiB(pid), 0);
}

async function holdIdleVms(fn: VmSnapshot): Promise<{ held: number; privateKiB: number }> {
  const vms: MicroVM[] = [];
  const before = privateKiB(process.pid);
  try {
    for (let i = 0; i < counts.held; i++) {
      const vm = await MicroVM.restore(fn);
      await vm.invoke({});
      await vm.settled();
      vms.push(vm);
      if ((i + 1) % 100 === 0) progress(`holding ${i + 1} VMs`);
    }
  } catch (err) {
    progress(`stopped holding VMs at ${vms.length}: ${(err as Error).message}`);
  }
  const sample = vms.slice(0, 20);
  const perVm =
    backend === 'kvm'
      ? (privateKiB(process.pid) - before) / Math.max(1, vms.length)
      : sample.reduce((s, vm) => s + vmPrivateKiB(vm), 0) / Math.max(1, sample.length);
  for (const vm of vms) vm.close();
  return { held: vms.length, privateKiB: perVm };
}

async function main(): Promise<void> {
  announceBackend(backend);
  progress(`${counts.snapshots} base and function snapshots`);
  const snaps = await takeSnapshots();
  progress(`${counts.restores} restores`);
  const restore = await measureRestore(snaps.fn);
  const cold = await measureColdBoot();
  progress(`${counts.invokes} hello invocations with a reset after each, and without`);
  const reset = await measureResetInvoke(snaps.fn);
  const noReset = await measureNoReset(snaps.fn);
  progress(`holding up to ${counts.held} restored idle VMs`);
  const held = await holdIdleVms(snaps.fn);
  rmSync(scratch, { recursive: true, force: true });

  report(
    'snapshot',
    {
      backend,
      snapshot_base_ms: round(median(snaps.baseMs), 2),
      snapshot_base_kib: snaps.baseKiB,
      snapshot_fn_ms: round(median(snaps.fnMs), 2),
      snapshot_fn_diff_kib: snaps.fnKiB,
      restore_ms_p50: round(median(restore.restoreMs), 3),
      restore_ms_p99: round(percentile(restore.restoreMs, 99), 3),
      restore_first_invoke_us_p50: round(median(restore.firstInvokeUs), 1),
      cold_boot_load_ms_p50: round(median(cold), 3),
      reset_invoke_us_p50: round(median(reset.resetInvokeUs), 1),
      reset_invoke_us_p99: round(percentile(reset.resetInvokeUs, 99), 1),
      reset_us_p50: round(median(reset.resetUs), 1),
      dirty_pages_per_invoke: median(reset.dirtyPages),
      hello_after_reset_us_p50: round(median(reset.afterResetUs), 1),
      hello_no_reset_us_p50: round(median(noReset), 1),
      post_reset_penalty: round(median(reset.afterResetUs) / median(noReset), 3),
      idle_vm_private_kib: Math.round(held.privateKiB),
      vms_held: held.held,
    },
    {
      snapshot_fn_diff_kib: 'pages that differ from the base',
      restore_ms_p50: 'new VM from the function snapshot → ready',
      restore_first_invoke_us_p50: 'first hello on a restored VM (first-touch faults)',
      cold_boot_load_ms_p50: 'baseline: boot + load without a snapshot',
      reset_invoke_us_p50: 'hello + reset to the snapshot',
      reset_us_p50: 'the reset alone, as the VMM measures it',
      post_reset_penalty: 'hello right after a reset ÷ hello on a VM never reset',
      idle_vm_private_kib: backend === 'kvm' ? 'host private memory per idle VM' : 'private memory of VMM + traced guest per idle VM',
      vms_held: `restored idle VMs held at once (tried ${counts.held})`,
    },
    args,
  );
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
});
