#!/usr/bin/env node
// smoke-snapshot.mjs — proves SNAPSHOT / RESTORE / RESET of ptrace-vmm (include/fn_vmm_control.h)
// end to end, driving vmm/build/ptrace-vmm with the KVM guest ELF over its pipes:
//   - RESET returns a VM to its snapshot: a counter answers "1" after every reset (1, 2, 3 without);
//     data one invocation stashes in a global is gone for the next; pages an invocation touched for
//     the first time go back too (heap stable over 100 resets, and a second snapshot taken after a
//     reset is identical to the first);
//   - a snapshot restores into new VMM processes, each with its own randomness and the current time;
//   - a base snapshot plus a diff restores, and the diff is much smaller than the base;
//   - bad files and bad requests are refused clearly, and the VM keeps serving after a refused command.
//
//   node guest/scripts/smoke-snapshot.mjs [--verbose]        (FN_PTRACE_VMM=path: another ptrace-vmm)
//
// Prints one line per check and a closing "snapshot: N passed, M failed"; exits 1 if any failed.

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { guestElfPath } from '../index.js';
import {
  COMMAND,
  EVENT,
  ProcessGuest,
  STATUS,
  STATUS_NAME,
  VMM_COMMAND,
  VMM_STATUS,
  decodeInvokeOutput,
  encodeWithMeta,
  ptraceVmmPath as builtVmm,
} from './lib/process-guest.mjs';
import { checks } from './lib/checks.mjs';

const verbose = process.argv.includes('--verbose');
// FN_PTRACE_VMM runs the suite against another build (e.g. one with a feature broken on purpose).
const ptraceVmmPath = process.env.FN_PTRACE_VMM || builtVmm;
const MIB = 64;
const PAGE = 4096;
const { check, finish } = checks('snapshot');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'fn-snapshot-smoke-'));
const dir = (name) => join(work, name);

/**
 * A VMM: a fresh boot of the ELF, or a restore of `restore` (with `base`). Resolves at READY. A
 * restored VMM is sealed (it can write no file) unless given `snapshotDir`, where it may write.
 */
async function start({ restore, base, snapshotDir, memoryMiB = MIB } = {}) {
  const args = restore ? [guestElfPath, '--restore', restore, ...(base ? ['--base', base] : [])] : [guestElfPath];
  if (snapshotDir) args.push('--snapshot-dir', snapshotDir);
  const guest = new ProcessGuest(ptraceVmmPath, { memoryMiB, prefixArgs: args });
  const ready = await guest.nextFrame(20000);
  if (!ready || ready.event !== EVENT.READY) throw new Error(`no READY frame (${ready?.event}): ${ready?.output}`);
  guest.readyNs = process.hrtime.bigint() - guest.spawnedAt;
  guest.ready = ready;
  return guest;
}

async function load(guest, source) {
  const frame = await guest.request(COMMAND.LOAD, encodeWithMeta({ name: 'snap', env: {}, memoryMiB: MIB }, Buffer.from(source)));
  if (frame?.header.status !== STATUS.OK) throw new Error(`LOAD failed: ${frame?.output}`);
}

async function invoke(guest, { url = 'https://fn.local/', body = '', method = 'POST' } = {}) {
  const meta = { method, url, headers: [], invocationId: 'i', deadlineMs: Date.now() + 10000 };
  const frame = await guest.request(COMMAND.INVOKE, encodeWithMeta(meta, Buffer.from(body)));
  if (!frame || frame.event !== EVENT.DONE || frame.header.status !== STATUS.OK) {
    throw new Error(`INVOKE failed: event ${frame?.event} status ${STATUS_NAME[frame?.header.status]} ${frame?.output.toString().slice(0, 300)}`);
  }
  const out = decodeInvokeOutput(frame.output);
  if (verbose) console.log('   ', JSON.stringify(out.meta), out.body.toString().slice(0, 200));
  return { text: out.body.toString(), header: frame.header, meta: out.meta };
}

async function snapshot(guest, to, base = null) {
  const { frame, json } = await guest.control(VMM_COMMAND.SNAPSHOT, { dir: to, base });
  if (verbose) console.log('    SNAPSHOT', STATUS_NAME[frame.header.status] ?? frame.header.status, JSON.stringify(json));
  return { status: frame.header.status, event: frame.event, json };
}

async function reset(guest) {
  const { frame, json } = await guest.control(VMM_COMMAND.RESET, {});
  if (frame.header.status !== STATUS.OK) throw new Error(`RESET failed: ${JSON.stringify(json)}`);
  return json;
}

/** Runs ptrace-vmm to completion (for refusals): exit code, signal, stderr, whether READY came. */
function runToExit(args) {
  return new Promise((resolve) => {
    const child = spawn(ptraceVmmPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = Buffer.alloc(0);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout = Buffer.concat([stdout, d])));
    child.stdin.end();
    // 'close', not 'exit': exit can come before the last stderr bytes are read (seen under load).
    child.on('close', (code, signal) => resolve({ code, signal, stderr: stderr.trim(), ready: stdout.length >= 4 && stdout.readUInt32LE(0) === EVENT.READY }));
  });
}

const COUNTER = 'let n = 0; export default { fetch() { n++; return new Response(String(n)) } }';
const STASH = `const seen = [];
export default { async fetch(req) { const before = seen.slice(); seen.push(await req.text()); return new Response(JSON.stringify(before)) } }`;
const ENTROPY = 'export default { fetch() { return new Response(JSON.stringify({ u: crypto.randomUUID(), r: Math.random(), now: Date.now() })) } }';
const MEGABYTE = `const keep = [];
export default { fetch() { const a = new Uint8Array(1 << 20); a.fill(7); keep.push(a); return new Response(String(keep.length)) } }`;
const TIMER = 'export default { async fetch() { await new Promise((r) => setTimeout(r, 300)); return new Response("slept") } }';

// ---------------------------------------------------------------------------------------------

async function counterWithReset() {
  const vm = await start();
  await load(vm, COUNTER);
  const snap = await snapshot(vm, dir('counter'));
  const s = snap.json;
  check(
    'SNAPSHOT after LOAD → OK with its figures',
    snap.status === STATUS.OK && s.pages > 50 && s.diffPages === 0 && s.bytes >= s.pages * PAGE,
    `${s.pages} pages, ${(s.bytes / 1024).toFixed(0)} KiB written, ${s.ms.toFixed(2)} ms (write ${s.writeMs.toFixed(2)}, rebase ${s.rebaseMs.toFixed(2)})`,
  );
  const img = statSync(join(dir('counter'), 'memory.img'));
  check(
    'memory.img is a sparse file of exactly the guest RAM size',
    img.size === MIB << 20 && img.blocks * 512 < img.size / 4,
    `${img.size} bytes, ${img.blocks * 512} allocated`,
  );
  const withReset = [];
  for (let i = 0; i < 3; i++) {
    withReset.push((await invoke(vm)).text);
    await reset(vm);
  }
  check('INVOKE ×3 with RESET after each → 1, 1, 1', withReset.join() === '1,1,1', withReset.join());
  const without = [];
  for (let i = 0; i < 3; i++) without.push((await invoke(vm)).text);
  check('… and without RESET → 1, 2, 3', without.join() === '1,2,3', without.join());
  const r = await reset(vm);
  check('RESET reports the pages it put back', r.dirtyPages > 0 && r.us > 0, JSON.stringify(r));
  check('… and serves "1" again', (await invoke(vm)).text === '1');
  vm.kill();
}

async function stashIsGone() {
  const vm = await start();
  await load(vm, STASH);
  await snapshot(vm, dir('stash'));
  const first = await invoke(vm, { body: 'secret of invocation A' });
  await reset(vm);
  const second = await invoke(vm, { body: 'B' });
  check('data stashed in a global is gone after RESET', first.text === '[]' && second.text === '[]', `${first.text} then ${second.text}`);
  const third = await invoke(vm, { body: 'C' });
  check('… and still there without one (the check can fail)', third.text === '["B"]', third.text);
  const big = 'x'.repeat(200 * 1024);
  await invoke(vm, { body: big });
  const r = await reset(vm);
  check('RESET zeroes the window pages an invocation used', r.windowPages >= 50, `${r.windowPages} window pages zeroed after a 200 KiB body`);
  vm.kill();
}

async function restoreElsewhere(entropySnapshotAt) {
  const vm = await start({ restore: dir('counter') });
  check(
    'restore into a new VMM → READY from the VMM',
    vm.ready.header.status === STATUS.OK && JSON.parse(vm.ready.output).restored?.us > 0,
    `${(Number(vm.readyNs) / 1e6).toFixed(2)} ms spawn → READY, ${vm.ready.output}`,
  );
  const answers = [(await invoke(vm)).text, (await invoke(vm)).text];
  await reset(vm);
  answers.push((await invoke(vm)).text);
  check('the restored counter answers 1, 2, then 1 after RESET', answers.join() === '1,2,1', answers.join());
  vm.kill();

  const uuids = new Set();
  const randoms = new Set();
  for (let i = 0; i < 50; i++) {
    const clone = await start({ restore: dir('entropy') });
    const v = JSON.parse((await invoke(clone)).text);
    uuids.add(v.u);
    randoms.add(v.r);
    clone.kill();
  }
  check(
    '50 restores of one snapshot → 50 distinct randomUUID() and Math.random()',
    uuids.size === 50 && randoms.size === 50,
    `${uuids.size} UUIDs, ${randoms.size} randoms`,
  );

  const age = Date.now() - entropySnapshotAt;
  if (age < 3000) await sleep(3000 - age);
  const late = await start({ restore: dir('entropy') });
  const v = JSON.parse((await invoke(late)).text);
  const skew = Math.abs(v.now - Date.now());
  check(
    'Date.now() in a VM restored from a snapshot taken long ago tracks the host clock',
    skew < 1000 && Date.now() - entropySnapshotAt >= 3000,
    `snapshot ${((Date.now() - entropySnapshotAt) / 1000).toFixed(1)} s old, skew ${skew} ms`,
  );
  late.kill();
}

async function baseAndDiff() {
  const boot = await start();
  const base = await snapshot(boot, dir('base'));
  boot.kill();
  check('base snapshot of a booted runtime (no function)', base.status === STATUS.OK && base.json.pages > 0, JSON.stringify(base.json));
  const baseImg = join(dir('base'), 'memory.img');

  const sealed = await start({ restore: dir('base') });
  const refused = await snapshot(sealed, dir('diff'), baseImg);
  check(
    'a VM restored without --snapshot-dir is sealed: SNAPSHOT refused, nothing written',
    refused.status === VMM_STATUS.BAD_STATE && /sealed/.test(refused.json.error.message) && !existsSync(dir('diff')),
    refused.json.error.message,
  );
  sealed.kill();

  const vm = await start({ restore: dir('base'), snapshotDir: work });
  await load(vm, COUNTER);
  const diff = await snapshot(vm, dir('diff'), baseImg);
  const d = diff.json;
  check(
    'diff snapshot over the base → far fewer pages than the base',
    diff.status === STATUS.OK && d.diffPages > 0 && d.diffPages * 4 < base.json.pages,
    `${d.diffPages} diff pages vs ${base.json.pages} base pages, ${(d.bytes / 1024).toFixed(0)} KiB written`,
  );
  const pagesBin = readFileSync(join(dir('diff'), 'pages.bin'));
  check(
    'pages.bin says layered and lists the diff runs',
    pagesBin.subarray(0, 7).toString() === 'FNPAGES' && (pagesBin.readUInt32LE(12) & 1) === 1 && Number(pagesBin.readBigUInt64LE(72)) === d.diffPages,
  );
  vm.kill();

  const layered = await start({ restore: dir('diff'), base: baseImg });
  const answers = [(await invoke(layered)).text, (await invoke(layered)).text];
  await reset(layered);
  answers.push((await invoke(layered)).text);
  check('restore base + diff → the counter answers 1, 2, then 1 after RESET', answers.join() === '1,2,1', answers.join());
  layered.kill();

  const noBase = await runToExit([guestElfPath, '--restore', dir('diff'), '--memory-mib', String(MIB)]);
  check('a diff restored without --base is refused', noBase.code === 2 && !noBase.ready && /--base/.test(noBase.stderr), noBase.stderr);
  const wrongBase = await runToExit([guestElfPath, '--restore', dir('diff'), '--base', join(dir('counter'), 'memory.img'), '--memory-mib', String(MIB)]);
  check('a diff restored over another base is refused', wrongBase.code === 2 && /different base/.test(wrongBase.stderr), wrongBase.stderr);
}

async function refusals() {
  const copy = (name) => {
    mkdirSync(dir(name), { recursive: true });
    for (const f of ['cpu.bin', 'pages.bin', 'memory.img']) copyFileSync(join(dir('counter'), f), join(dir(name), f));
    return dir(name);
  };
  const restoreArgs = (d, mib = MIB) => [guestElfPath, '--restore', d, '--memory-mib', String(mib)];

  const short = copy('truncated');
  truncateSync(join(short, 'memory.img'), (MIB << 20) - PAGE);
  const t = await runToExit(restoreArgs(short));
  check(
    'memory.img one page short → refused, exit 2, no crash',
    t.code === 2 && t.signal === null && !t.ready && /shorter than guest RAM/.test(t.stderr),
    t.stderr,
  );

  const cpuPath = join(copy('badcpu'), 'cpu.bin');
  const good = readFileSync(cpuPath);
  const withCrc = (b) => {
    b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
    return b;
  };
  const magic = Buffer.from(good);
  magic.write('XXXXXXXX', 0);
  writeFileSync(cpuPath, withCrc(magic));
  const m = await runToExit(restoreArgs(dir('badcpu')));
  check('cpu.bin with a wrong magic → refused clearly', m.code === 2 && /does not start with "FNCPUST"/.test(m.stderr), m.stderr);
  const version = Buffer.from(good);
  version.writeUInt32LE(7, 8);
  writeFileSync(cpuPath, withCrc(version));
  const v = await runToExit(restoreArgs(dir('badcpu')));
  check('cpu.bin of another format version → refused clearly', v.code === 2 && /version 7/.test(v.stderr), v.stderr);
  const flipped = Buffer.from(good);
  flipped[100] ^= 0x40;
  writeFileSync(cpuPath, flipped);
  const f = await runToExit(restoreArgs(dir('badcpu')));
  check('cpu.bin with a flipped bit → refused as damaged', f.code === 2 && /CRC/.test(f.stderr), f.stderr);
  const mib = await runToExit(restoreArgs(dir('counter'), 128));
  check('restore with another --memory-mib → refused, says which', mib.code === 2 && /--memory-mib 64/.test(mib.stderr), mib.stderr);

  const vm = await start();
  const early = await vm.control(VMM_COMMAND.RESET, {});
  check('RESET before any snapshot → BAD_STATE, VM keeps going', early.frame.header.status === VMM_STATUS.BAD_STATE, early.json.error.message);
  await load(vm, TIMER);
  const badJson = await vm.control(VMM_COMMAND.SNAPSHOT, null);
  check('SNAPSHOT without a dir → BAD_REQUEST', badJson.frame.header.status === VMM_STATUS.BAD_REQUEST, badJson.json.error.message);
  const unknown = await vm.control(0x1ff, {});
  check('an unknown VMM command → BAD_REQUEST', unknown.frame.header.status === VMM_STATUS.BAD_REQUEST, unknown.json.error.message);
  const shortBase = await vm.control(VMM_COMMAND.SNAPSHOT, { dir: dir('never'), base: join(short, 'memory.img') });
  check(
    'SNAPSHOT over a base that is too short → BAD_SNAPSHOT, nothing written',
    shortBase.frame.header.status === VMM_STATUS.BAD_SNAPSHOT && !existsSync(join(dir('never'), 'cpu.bin')),
    shortBase.json.error.message.slice(0, 100),
  );
  await snapshot(vm, dir('timer'));
  // Mid-command: the guest asked to sleep (FN_EVENT_SLEEP); a SNAPSHOT now would capture half a command.
  vm.send(COMMAND.INVOKE, encodeWithMeta({ method: 'GET', url: 'https://fn.local/', headers: [], invocationId: 't', deadlineMs: Date.now() + 5000 }));
  const sleeping = await vm.nextFrame(5000);
  const mid = await vm.control(VMM_COMMAND.SNAPSHOT, { dir: dir('mid') });
  check(
    'SNAPSHOT while the guest sleeps mid-command → BAD_STATE',
    sleeping?.event === EVENT.SLEEP && mid.frame.header.status === VMM_STATUS.BAD_STATE,
    mid.json.error.message,
  );
  const abandon = await vm.control(VMM_COMMAND.RESET, {});
  const after = await invoke(vm);
  check(
    'RESET mid-command abandons it; the VM serves the next invocation',
    abandon.frame.header.status === STATUS.OK && after.text === 'slept',
    JSON.stringify(abandon.json),
  );
  vm.kill();
}

async function firstTouchPages() {
  const vm = await start();
  await load(vm, MEGABYTE);
  await snapshot(vm, dir('mega-a'));
  const heaps = [];
  const texts = new Set();
  const dirty = [];
  for (let i = 0; i < 100; i++) {
    const r = await invoke(vm);
    heaps.push(r.header.heapUsed);
    texts.add(r.text);
    dirty.push((await reset(vm)).dirtyPages);
  }
  const spread = Math.max(...heaps) - Math.min(...heaps);
  check(
    'a fresh 1 MiB array per invocation, RESET after each: heap_used stable over 100 invocations',
    spread === 0 && texts.size === 1 && texts.has('1') && Math.min(...dirty) >= 256,
    `heap_used ${Math.min(...heaps)}..${Math.max(...heaps)}, answers ${[...texts]}, RESET put back ${Math.min(...dirty)}..${Math.max(...dirty)} pages`,
  );
  // The snapshot taken after a RESET must be the snapshot itself, byte for byte.
  await snapshot(vm, dir('mega-b'));
  const same = (f, from = 0, to) =>
    readFileSync(join(dir('mega-a'), f))
      .subarray(from, to)
      .equals(readFileSync(join(dir('mega-b'), f)).subarray(from, to));
  check('a snapshot taken after RESET equals the original: memory.img and registers', same('memory.img') && same('cpu.bin', 56, 784));
  const grow = [];
  for (let i = 0; i < 3; i++) grow.push((await invoke(vm)).header.heapUsed);
  check('… while without RESET the heap grows by the megabytes kept', grow[2] - grow[0] >= 2 << 20, grow.join(' → '));
  vm.kill();
}

// ---------------------------------------------------------------------------------------------

for (const path of [ptraceVmmPath, guestElfPath]) {
  if (!existsSync(path)) {
    console.error(`${path} is missing: run npm run build -w @fn/guest first`);
    process.exit(1);
  }
}
console.log(`ptrace-vmm SNAPSHOT / RESTORE / RESET (files under ${work})`);
let entropyAt = 0;
try {
  const vm = await start();
  await load(vm, ENTROPY);
  await snapshot(vm, dir('entropy'));
  entropyAt = Date.now();
  vm.kill();
} catch (error) {
  check('entropy snapshot', false, error.stack);
}
for (const part of [counterWithReset, stashIsGone, () => restoreElsewhere(entropyAt), baseAndDiff, refusals, firstTouchPages]) {
  try {
    await part();
  } catch (error) {
    check(part.name || 'restoreElsewhere', false, error.stack);
  }
}
rmSync(work, { recursive: true, force: true });
finish();
