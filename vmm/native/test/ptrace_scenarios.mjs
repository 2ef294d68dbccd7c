// ptrace_scenarios.mjs — the ptrace VMM (vmm/build/ptrace-vmm) against what a hostile guest, or a
// VMM a guest took over, would do. Two parts, one result line per check (harness.cjs; vitest makes
// each a test in vmm/src/ptrace-scenarios.test.ts):
//
//  hostile guest: the probe guest (guests/probe_guest.S, one scenario per input letter: the same
//    letters kvm_scenarios.cjs runs on real KVM) makes a stray syscall, runs privileged
//    instructions, rings unknown doorbells, reads outside its memory, lies about output_len. Each
//    must end that VM with a PANIC naming what happened (the host turns it into GuestCrashedError),
//    the VMM process gone, and a VM restored from the same snapshot afterwards serves as before.
//
//  lockdown (vmm/native/ptrace/lockdown.c): once its VM runs, the VMM itself shows Seccomp 2 and
//    NoNewPrivs 1 in /proc, holds no file it does not need, and — asked through TEST_PROBE
//    (FN_VMM_TEST_HOOKS=1, the test-only command) to do what a taken-over VMM would try — cannot
//    exec, open a file, make a socket or trace its parent (killed by SIGSYS), cannot allocate past
//    its memory limit (ENOMEM, and it serves on), and when it may write snapshots, Landlock keeps it
//    out of every directory but that one.
//
//   node vmm/native/test/ptrace_scenarios.mjs      (FN_PROBE_GUEST_ELF=path, FN_PTRACE_VMM=path)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND, EVENT, ProcessGuest, VMM_COMMAND, VMM_STATUS, ptraceVmmPath as builtVmm } from '../../../guest/scripts/lib/process-guest.mjs';

const require = createRequire(import.meta.url);
const { createHarness, assert } = require('./harness.cjs');

const here = dirname(fileURLToPath(import.meta.url));
const probeElf = process.env.FN_PROBE_GUEST_ELF || join(here, '../../build/native-test/probe_guest.elf');
const vmmPath = process.env.FN_PTRACE_VMM || builtVmm;
const TEST_PROBE = 0x1f0;
const MIB = 64;

const work = mkdtempSync(join(tmpdir(), 'fn-ptrace-scenarios-'));
// A stand-in for the platform's data directory: what a taken-over VMM must not reach.
const dataDir = join(work, 'data');
mkdirSync(dataDir);
writeFileSync(join(dataDir, 'fn.db'), 'registry');
writeFileSync(join(dataDir, 'secrets.key'), 'sealing key');
const snapDir = join(work, 'probe-snapshot');

/** A ptrace-vmm process at READY: a boot of the probe guest, or a restore of its snapshot. */
async function start({ restore = true, snapshotDir, hooks = true } = {}) {
  const args = [probeElf];
  if (restore) args.push('--restore', snapDir);
  if (snapshotDir) args.push('--snapshot-dir', snapshotDir);
  const previous = process.env.FN_VMM_TEST_HOOKS;
  if (hooks) process.env.FN_VMM_TEST_HOOKS = '1';
  else delete process.env.FN_VMM_TEST_HOOKS;
  const vm = new ProcessGuest(vmmPath, { memoryMiB: MIB, prefixArgs: args });
  if (previous === undefined) delete process.env.FN_VMM_TEST_HOOKS;
  else process.env.FN_VMM_TEST_HOOKS = previous;
  const ready = await vm.nextFrame(20000);
  assert(ready?.event === EVENT.READY, `no READY (${ready?.event}): ${ready?.output}`);
  vm.exit = new Promise((resolve) => {
    if (vm.exited) resolve(vm.exited);
    else vm.child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return vm;
}

async function echo(vm, text) {
  const frame = await vm.request(COMMAND.INVOKE, Buffer.from(text));
  assert(frame?.event === EVENT.DONE && frame.output.toString() === text, `echo: event ${frame?.event}, output ${frame?.output}`);
}

/** TEST_PROBE: {tried, outcome} from the VMM, or how it died trying. */
async function probe(vm, what, path) {
  vm.send(TEST_PROBE, Buffer.from(JSON.stringify(path ? { try: what, path } : { try: what })));
  try {
    const frame = await vm.nextFrame(10000);
    assert(frame, `no answer to TEST_PROBE ${what}`);
    return JSON.parse(frame.output.toString());
  } catch (e) {
    if (!vm.exited) throw e;
    return { died: vm.exited };
  }
}

const status = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
const field = (text, name) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(text)?.[1];

const h = createHarness('ptrace');

// ---- setup: the probe guest's snapshot at READY (a fresh boot may write snapshots) -------------
h.test('the probe guest boots under ptrace-vmm and snapshots at READY', async () => {
  const vm = await start({ restore: false });
  const { frame, json } = await vm.control(VMM_COMMAND.SNAPSHOT, { dir: snapDir, base: null });
  assert(frame.header.status === 0 && json.pages > 0, `SNAPSHOT: ${frame.output}`);
  vm.kill();
});

// ---- hostile guest -------------------------------------------------------------------------------
const hostile = [
  ['c', 'a stray syscall', /stray syscall 39 /],
  ['H', 'hlt at CPL3', /guest fault: signal 11 .*opcode 0xf4/],
  ['m', 'wrmsr at CPL3', /guest fault: signal 11 .*opcode 0x0f/],
  ['l', 'cli at CPL3', /guest fault: signal 11 .*opcode 0xfa/],
  ['L', 'lgdt at CPL3', /guest fault: signal 11 .*opcode 0x0f/],
  ['p', 'out to a port that is not the doorbell (0x3f8)', /guest fault: signal 11 .*opcode 0xee/],
  ['x', 'out to 0xE2, beside the doorbell', /guest fault: signal 11 .*opcode 0xee/],
  ['w', 'a byte-wide doorbell', /guest fault: signal 11 .*opcode 0xee/],
  ['u', 'an unknown doorbell event (99)', /unknown event 99/],
  ['h', 'output_len 0xFFFFFFFF', /output_len 4294967295 > FN_WINDOW_DATA_MAX/],
  ['y', 'output_len one past the window', /output_len 8384513 > FN_WINDOW_DATA_MAX/],
  ['o', 'a read of the first byte past guest RAM', new RegExp(`guest fault: signal 11 .*address 0x${(MIB << 20).toString(16)},`)],
  ['A', 'a read past the end of the window', /guest fault: signal 11 .*address 0x100810000,/],
  ['N', 'a read of a non-canonical address', /guest fault: signal (11|7) /],
  ['n', 'a NULL read', /guest fault: signal 11 .*address \(nil\)/],
];
for (const [letter, what, message] of hostile) {
  h.test(`hostile guest: ${what} ends that VM with a PANIC saying so; the next VM serves`, async () => {
    const vm = await start({ hooks: false });
    const frame = await vm.request(COMMAND.INVOKE, Buffer.from(letter));
    assert(frame?.event === EVENT.PANIC, `event ${frame?.event}: ${frame?.output}`);
    assert(message.test(frame.output.toString()), `PANIC message: ${frame.output}`);
    const exit = await vm.exit;
    assert(exit.code === 70, `the VMM exits 70 after a PANIC, got ${JSON.stringify(exit)}`);
    const next = await start({ hooks: false });
    await echo(next, `e-after-${letter}`);
    next.kill();
  });
}
h.test("hostile guest: a stray syscall after a SNAPSHOT (the guest process then inherits the VMM's filter) is still a PANIC naming it", async () => {
  const scratch = mkdtempSync(join(work, 'resnap-'));
  const vm = await start({ snapshotDir: scratch, hooks: false });
  const { frame: snap } = await vm.control(VMM_COMMAND.SNAPSHOT, { dir: join(scratch, 'again'), base: null });
  assert(snap.header.status === 0, `SNAPSHOT: ${snap.output}`);
  const frame = await vm.request(COMMAND.INVOKE, Buffer.from('c'));
  assert(frame?.event === EVENT.PANIC && /stray syscall/.test(frame.output.toString()), `event ${frame?.event}: ${frame?.output}`);
  assert((await vm.exit).code === 70, 'the VMM exits 70');
});
h.test('a restored VM serves, resets and serves again (the baseline the cases above compare with)', async () => {
  const vm = await start({ hooks: false });
  await echo(vm, 'e-one');
  const { frame } = await vm.control(VMM_COMMAND.RESET, {});
  assert(frame.header.status === 0, `RESET: ${frame.output}`);
  await echo(vm, 'e-two');
  vm.kill();
});

h.test(
  'FN_VMM_FLAG_RESET_AFTER: the DONE comes first, then the RESET reply unasked, and the next invocation serves; on a VMM command the flag is refused',
  async () => {
    const vm = await start({ hooks: false });
    const RESET_AFTER = 0x80000000;
    const done = await vm.request((COMMAND.INVOKE | RESET_AFTER) >>> 0, Buffer.from('e-flagged'));
    assert(done?.event === EVENT.DONE && done.output.toString() === 'e-flagged', `invoke: event ${done?.event}, output ${done?.output}`);
    const reset = await vm.nextFrame(10000);
    assert(reset?.event === EVENT.DONE && reset.header.status === 0, `no RESET reply after DONE: event ${reset?.event}, ${reset?.output}`);
    const info = JSON.parse(reset.output.toString());
    assert(typeof info.dirtyPages === 'number' && typeof info.us === 'number', `RESET reply: ${reset.output}`);
    await echo(vm, 'e-after');
    const refused = await vm.request((VMM_COMMAND.RESET | RESET_AFTER) >>> 0, Buffer.from('{}'));
    assert(
      refused?.event === EVENT.DONE && refused.header.status === VMM_STATUS.BAD_REQUEST,
      `flagged RESET: status ${refused?.header.status}, ${refused?.output}`,
    );
    await echo(vm, 'e-still');
    vm.kill();
  },
);

// ---- lockdown: a sealed VMM (restored, nowhere to write: every invocation VM) -------------------
h.test('a sealed VMM: Seccomp 2 (filter) and NoNewPrivs 1 in /proc, working directory /, no file of the data directory open', async () => {
  const vm = await start();
  const s = status(vm.child.pid);
  assert(field(s, 'Seccomp') === '2' && field(s, 'NoNewPrivs') === '1', `Seccomp ${field(s, 'Seccomp')}, NoNewPrivs ${field(s, 'NoNewPrivs')}`);
  const report = await probe(vm, 'status');
  assert(report.seccomp === 1 && report.addressSpaceLimit > 0, JSON.stringify(report));
  assert(readlinkSync(`/proc/${vm.child.pid}/cwd`) === '/', 'cwd');
  // 0-2: the frame pipes (socket pairs, from Node) and stderr; beyond them only the guest's pagemap
  // and the snapshot's memory file.
  const fds = readdirSync(`/proc/${vm.child.pid}/fd`).map(Number);
  const open = fds.map((fd) => readlinkSync(`/proc/${vm.child.pid}/fd/${fd}`));
  const beyond = fds.filter((fd) => fd > 2).map((fd) => readlinkSync(`/proc/${vm.child.pid}/fd/${fd}`));
  const unexpected = beyond.filter((t) => !/\/pagemap$/.test(t) && !t.startsWith(snapDir));
  assert(unexpected.length === 0, `descriptors beyond the pipes, the guest's pagemap and the snapshot: ${unexpected.join(', ')}`);
  assert(!open.some((t) => t.startsWith(dataDir)), 'a data directory file is open');
  vm.kill();
});

const deadly = [
  ['execve', undefined, 'exec /bin/true'],
  ['open', join(dataDir, 'fn.db'), 'open the registry database in the data directory'],
  ['open', join(dataDir, 'secrets.key'), 'open the secrets key'],
  ['create', join(dataDir, 'planted'), 'create a file in the data directory'],
  ['socket', undefined, 'create a TCP socket'],
  ['ptrace-parent', undefined, 'ptrace its parent (the worker)'],
  ['kill-parent', undefined, 'signal its parent (the worker)'],
];
for (const [what, path, label] of deadly) {
  h.test(`a sealed VMM that tries to ${label} is killed by SIGSYS, and nothing happened`, async () => {
    const vm = await start();
    const r = await probe(vm, what, path);
    assert(r.died?.signal === 'SIGSYS', `expected death by SIGSYS, got ${JSON.stringify(r)}`);
    assert(!existsSync(join(dataDir, 'planted')), 'the file was created');
  });
}

h.test('a sealed VMM hits its memory limit with ENOMEM, not the host, and serves on', async () => {
  const vm = await start();
  const limit = (await probe(vm, 'status')).addressSpaceLimit;
  const r = await probe(vm, 'alloc');
  assert(r.outcome === 'ENOMEM', `a 1 GiB allocation under a ${(limit / 2 ** 20).toFixed(0)} MiB address-space limit: ${JSON.stringify(r)}`);
  await echo(vm, 'e-still-serving');
  vm.kill();
});

h.test('a sealed VMM refuses SNAPSHOT (it can write nothing) and serves on', async () => {
  const vm = await start();
  const target = join(work, 'never');
  const { frame, json } = await vm.control(VMM_COMMAND.SNAPSHOT, { dir: target, base: null });
  assert(frame.header.status !== 0 && /sealed/.test(json.error.message), `SNAPSHOT: ${frame.output}`);
  assert(!existsSync(target), 'the snapshot directory was created');
  await echo(vm, 'e-after-refusal');
  vm.kill();
});

// ---- lockdown: a VMM that may write snapshots beneath one directory (the deployer's) ------------
h.test('a VMM given --snapshot-dir: Landlock keeps it out of the data directory, seccomp still kills exec and sockets', async () => {
  const scratch = join(work, 'scratch');
  mkdirSync(scratch);
  const tries = [['status'], ['open', join(dataDir, 'fn.db')], ['create', join(dataDir, 'planted')], ['create', join(scratch, 'allowed')], ['kill-parent']];
  const vm = await start({ snapshotDir: scratch });
  const s = status(vm.child.pid);
  assert(field(s, 'Seccomp') === '2' && field(s, 'NoNewPrivs') === '1', `Seccomp ${field(s, 'Seccomp')}, NoNewPrivs ${field(s, 'NoNewPrivs')}`);
  const answers = [];
  for (const [what, path] of tries) answers.push(await probe(vm, what, path));
  const [report, db, planted, inScratch, killParent] = answers;
  assert(report.landlock >= 1, `Landlock is not in force (ABI ${report.landlock}): this kernel lacks it?`);
  assert(db.outcome === 'EACCES', `open fn.db: ${JSON.stringify(db)}`);
  assert(planted.outcome === 'EACCES' && !existsSync(join(dataDir, 'planted')), `create in the data directory: ${JSON.stringify(planted)}`);
  assert(inScratch.outcome === 'done' && existsSync(join(scratch, 'allowed')), `create beneath --snapshot-dir: ${JSON.stringify(inScratch)}`);
  assert(killParent.outcome === 'EPERM', `signal its parent (Landlock's signal scope): ${JSON.stringify(killParent)}`);
  // It still snapshots there, and runs on from the files.
  const { frame } = await vm.control(VMM_COMMAND.SNAPSHOT, { dir: join(scratch, 'snap'), base: null });
  assert(frame.header.status === 0, `SNAPSHOT beneath --snapshot-dir: ${frame.output}`);
  await echo(vm, 'e-after-snapshot');
  const exec = await probe(vm, 'execve');
  assert(exec.died?.signal === 'SIGSYS', `execve: ${JSON.stringify(exec)}`);
  const other = await start({ snapshotDir: scratch });
  const sock = await probe(other, 'socket');
  assert(sock.died?.signal === 'SIGSYS', `socket: ${JSON.stringify(sock)}`);
});

const failed = await h.run();
rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
