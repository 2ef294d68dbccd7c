#!/usr/bin/env node
// bench-snapshot.mjs — what SNAPSHOT, RESTORE and RESET of ptrace-vmm cost (include/fn_vmm_control.h),
// measured through its pipes with the hello function. Records numbers; passes or fails nothing.
//
//   node guest/scripts/bench-snapshot.mjs [--n 200] [--json]
//
//   SNAPSHOT  ms (total, of which writing the files and re-basing the VM onto them) and KiB
//             written, full and as a diff over a base snapshot of the booted runtime
//   RESTORE   spawn → READY as seen by the parent, the VMM's own part of it, and the first
//             INVOKE after READY; with the snapshot's pages prefaulted (default) and without
//             (--no-populate), alternating; spawning /bin/true is the floor for any child process
//   RESET     µs inside the VMM (scan, copy, CPU) and round trip, pages put back per hello
//             invocation; dirty pages found by PAGEMAP_SCAN (default) and by reading
//             /proc/pid/pagemap (--scan=pagemap), alternating between two VMs
//   INVOKE    round trip and guest time right after a RESET and right after another INVOKE

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestElfPath } from '../index.js';
import { COMMAND, EVENT, ProcessGuest, STATUS, VMM_COMMAND, encodeWithMeta, ptraceVmmPath } from './lib/process-guest.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const N = Number(option('n', '200'));
const asJson = args.includes('--json');
const MIB = 64;
const HELLO = 'export default { fetch(req) { return new Response("hi " + req.method) } }';
const work = mkdtempSync(join(tmpdir(), 'fn-snapshot-bench-'));
const now = () => Number(process.hrtime.bigint()) / 1e3; // µs

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { n: s.length, median: at(0.5), p99: at(0.99), min: s[0], max: s[s.length - 1] };
}

async function start(extra = [], { restore } = {}) {
  const prefix = restore ? [guestElfPath, '--restore', restore, ...extra] : [guestElfPath, ...extra];
  const t0 = now();
  const vm = new ProcessGuest(ptraceVmmPath, { memoryMiB: MIB, prefixArgs: prefix });
  const ready = await vm.nextFrame(20000);
  if (ready?.event !== EVENT.READY) throw new Error(`no READY: ${ready?.output}`);
  vm.readyUs = now() - t0;
  vm.readyJson = ready.output.length ? JSON.parse(ready.output) : null;
  return vm;
}

async function load(vm) {
  const f = await vm.request(COMMAND.LOAD, encodeWithMeta({ name: 'hello', env: {}, memoryMiB: MIB }, Buffer.from(HELLO)));
  if (f.header.status !== STATUS.OK) throw new Error(`LOAD: ${f.output}`);
}

async function invoke(vm) {
  const meta = { method: 'GET', url: 'https://fn.local/', headers: [], invocationId: 'b', deadlineMs: Date.now() + 10000 };
  const t0 = now();
  const f = await vm.request(COMMAND.INVOKE, encodeWithMeta(meta));
  const rtt = now() - t0;
  if (f?.header.status !== STATUS.OK) throw new Error(`INVOKE: ${f?.output}`);
  return { rtt, guestUs: f.header.guestNs / 1e3 };
}

async function control(vm, command, input) {
  const t0 = now();
  const { frame, json } = await vm.control(command, input);
  if (frame.header.status !== STATUS.OK) throw new Error(`VMM command 0x${command.toString(16)}: ${JSON.stringify(json)}`);
  return { rtt: now() - t0, ...json };
}

function spawnTrue() {
  return new Promise((resolve) => {
    const t0 = now();
    const c = spawn('/bin/true', [], { stdio: 'ignore' });
    c.on('exit', () => resolve(now() - t0));
  });
}

const results = {};

// SNAPSHOT ------------------------------------------------------------------------------------
{
  const base = join(work, 'base');
  const boot = await start();
  await control(boot, VMM_COMMAND.SNAPSHOT, { dir: base });
  boot.kill();
  const vm = await start([], { restore: base });
  await load(vm);
  await invoke(vm);
  const full = { ms: [], writeMs: [], rebaseMs: [], kib: [] };
  const diff = { ms: [], writeMs: [], rebaseMs: [], kib: [], diffPages: [] };
  for (let i = 0; i < N; i++) {
    for (const [kind, acc] of [
      ['full', full],
      ['diff', diff],
    ]) {
      const dir = join(work, `snap-${kind}-${i}`);
      const r = await control(vm, VMM_COMMAND.SNAPSHOT, { dir, base: kind === 'diff' ? join(base, 'memory.img') : null });
      acc.ms.push(r.ms);
      acc.writeMs.push(r.writeMs);
      acc.rebaseMs.push(r.rebaseMs);
      acc.kib.push(r.bytes / 1024);
      if (kind === 'diff') acc.diffPages.push(r.diffPages);
      else acc.pages = r.pages;
      if (i > 0) rmSync(join(work, `snap-${kind}-${i - 1}`), { recursive: true, force: true });
    }
  }
  vm.kill();
  const fin = (acc) => Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, Array.isArray(v) ? stats(v) : v]));
  results.snapshot = { full: fin(full), diff: fin(diff) };
}

// RESTORE -------------------------------------------------------------------------------------
{
  const dir = join(work, 'hello');
  const vm = await start();
  await load(vm);
  await control(vm, VMM_COMMAND.SNAPSHOT, { dir });
  vm.kill();
  const modes = { populate: [], 'no-populate': ['--no-populate'] };
  const acc = Object.fromEntries(Object.keys(modes).map((m) => [m, { readyMs: [], vmmMs: [], firstInvokeUs: [], secondInvokeUs: [] }]));
  const floor = [];
  for (let i = 0; i < N; i++) {
    for (const [mode, extra] of Object.entries(modes)) {
      const clone = await start(extra, { restore: dir });
      const a = acc[mode];
      a.readyMs.push(clone.readyUs / 1e3);
      a.vmmMs.push(clone.readyJson.restored.us / 1e3);
      a.firstInvokeUs.push((await invoke(clone)).rtt);
      a.secondInvokeUs.push((await invoke(clone)).rtt);
      clone.kill();
    }
    floor.push((await spawnTrue()) / 1e3);
  }
  results.restore = Object.fromEntries(Object.entries(acc).map(([m, a]) => [m, Object.fromEntries(Object.entries(a).map(([k, v]) => [k, stats(v)]))]));
  results.restore.spawnBinTrueMs = stats(floor);
  const boots = [];
  for (let i = 0; i < Math.min(N, 50); i++) {
    const b = await start();
    boots.push(b.readyUs / 1e3);
    b.kill();
  }
  results.restore.bootFromElfReadyMs = stats(boots);
}

// RESET and INVOKE after it --------------------------------------------------------------------
{
  const dir = join(work, 'hello');
  const vms = { pagemapScan: await start([], { restore: dir }), pagemapRead: await start(['--scan=pagemap'], { restore: dir }) };
  const acc = Object.fromEntries(Object.keys(vms).map((k) => [k, { us: [], scanUs: [], copyUs: [], cpuUs: [], rttUs: [], dirtyPages: [], runs: [] }]));
  const afterReset = { rtt: [], guest: [] };
  const afterInvoke = { rtt: [], guest: [] };
  for (const vm of Object.values(vms)) {
    await invoke(vm);
    await control(vm, VMM_COMMAND.RESET, {});
  }
  for (let i = 0; i < Math.max(N, 1000); i++) {
    for (const [name, vm] of Object.entries(vms)) {
      const a = await invoke(vm); // right after a RESET
      const b = await invoke(vm); // right after an INVOKE
      if (name === 'pagemapScan') {
        afterReset.rtt.push(a.rtt);
        afterReset.guest.push(a.guestUs);
        afterInvoke.rtt.push(b.rtt);
        afterInvoke.guest.push(b.guestUs);
      }
      const r = await control(vm, VMM_COMMAND.RESET, {});
      for (const k of ['us', 'scanUs', 'copyUs', 'cpuUs', 'dirtyPages', 'runs']) acc[name][k].push(r[k]);
      acc[name].rttUs.push(r.rtt);
    }
  }
  for (const vm of Object.values(vms)) vm.kill();
  results.reset = Object.fromEntries(Object.entries(acc).map(([m, a]) => [m, Object.fromEntries(Object.entries(a).map(([k, v]) => [k, stats(v)]))]));
  results.invoke = {
    afterResetRttUs: stats(afterReset.rtt),
    afterInvokeRttUs: stats(afterInvoke.rtt),
    afterResetGuestUs: stats(afterReset.guest),
    afterInvokeGuestUs: stats(afterInvoke.guest),
  };
}

rmSync(work, { recursive: true, force: true });
if (asJson) {
  console.log(JSON.stringify({ n: N, results }, null, 2));
} else {
  const f = (s, d = 2) => `median ${s.median.toFixed(d)}  p99 ${s.p99.toFixed(d)}  (n ${s.n})`;
  const S = results.snapshot;
  console.log(`SNAPSHOT (hello loaded, ${MIB} MiB guest)`);
  console.log(`  full: ${S.full.pages} pages   ms ${f(S.full.ms)}   write ms ${f(S.full.writeMs)}   rebase ms ${f(S.full.rebaseMs)}   KiB ${f(S.full.kib, 0)}`);
  console.log(`  diff over the booted base: pages ${f(S.diff.diffPages, 0)}   ms ${f(S.diff.ms)}   KiB ${f(S.diff.kib, 0)}`);
  console.log('RESTORE into a new VMM process (ms; first/second INVOKE in µs)');
  for (const [m, r] of Object.entries(results.restore)) {
    if (!r.readyMs) continue;
    console.log(`  ${m.padEnd(12)} spawn→READY ${f(r.readyMs)}   in the VMM ${f(r.vmmMs)}`);
    console.log(`  ${''.padEnd(12)} first INVOKE ${f(r.firstInvokeUs, 0)}   second ${f(r.secondInvokeUs, 0)}`);
  }
  console.log(`  floor: node spawning /bin/true ${f(results.restore.spawnBinTrueMs)}; boot from the ELF, spawn→READY ${f(results.restore.bootFromElfReadyMs)}`);
  console.log('RESET after a hello invocation (µs)');
  for (const [m, r] of Object.entries(results.reset)) {
    console.log(`  ${m.padEnd(12)} in the VMM ${f(r.us, 1)}   round trip ${f(r.rttUs, 1)}`);
    console.log(
      `  ${''.padEnd(12)} scan ${f(r.scanUs, 1)}   copy ${f(r.copyUs, 1)}   cpu ${f(r.cpuUs, 1)}   pages ${f(r.dirtyPages, 0)}   runs ${f(r.runs, 0)}`,
    );
  }
  const I = results.invoke;
  console.log('INVOKE hello (µs)');
  console.log(`  right after RESET   round trip ${f(I.afterResetRttUs, 1)}   guest ${f(I.afterResetGuestUs, 1)}`);
  console.log(`  right after INVOKE  round trip ${f(I.afterInvokeRttUs, 1)}   guest ${f(I.afterInvokeGuestUs, 1)}`);
}
