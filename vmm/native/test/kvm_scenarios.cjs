// kvm_scenarios.cjs — runs real guests on a host with a usable /dev/kvm: the scenario guest
// (guests/probe_guest.S, one scenario per input letter) through every exit path, the exchange rules
// (busy, dead, closed, bad_input), and the real fn-guest.elf booting to READY if it has been built.
// Called by addon_smoke.cjs when probe().ok; runnable alone: node native/test/kvm_scenarios.cjs
//
// Every scenario passes on real KVM: nested AMD SVM (scripts/with-kvm, in every npm test) and, for
// the core's smoke subset, Intel VMX under Bochs (scripts/with-kvm-intel); fake_kvm.so runs them too.
// On a new kind of host (PVM, a new CPU), check in this order (each step's scenario names the symptom):
//  1. VM creation at all: KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2 and KVM_GET/SET_MSRS use the
//     numbers and C layouts from kvm_ioctls.h (<linux/kvm.h> in C++ gets both wrong) — 'boots to
//     READY'; 'a snapshot records the CPU features' fails if the CPUID entries are read shifted.
//     Faults: every fault scenario names the vector, error code and exact RIP; a guest_fault that
//     says the vCPU was reset is a fault the IDT did not catch (long_mode.h, README "what differs").
//  2. vm.stats() after boot: syncRegs (KVM_CAP_SYNC_REGS with regs+sregs) and xsaveBytes (>= 4096:
//     KVM_CAP_XSAVE/XSAVE2) — record them; PVM may differ from hardware KVM.
//  3. The immediate_exit KVM_RUN that completes the doorbell's `out` returns EINTR on PVM, and RIP
//     is then just past the `out` exactly once (DESIGN: PVM moves RIP at the exit already; if the
//     completion moved it again, a restored or reset guest skips an instruction) — 'restore: ...
//     counters', 'reset returns RAM and registers'.
//  4. KVM_MEM_LOG_DIRTY_PAGES on the RAM slot (at restore; as a flags-only change at a fresh VM's
//     first snapshot) and KVM_GET_DIRTY_LOG reporting the guest's writes — reset's dirtyPages > 0.
//  5. mmap MAP_FIXED over the live RAM slot after a snapshot (KVM's MMU notifier must drop its old
//     mappings) — 'the VM that took a snapshot runs from it', 'after a snapshot, reset drops ...'.
//  6. Registers queued in kvm_run by reset are applied by the next KVM_RUN; sregsSet stays false
//     when the guest did not touch segments (if always true, find the field PVM reports differently).
//  7. KVM_GET/SET_XSAVE round-trip MXCSR and XMM — 'reset restores SSE state'; check whether AVX is
//     usable at CPL3 under PVM (host XCR0) and, if so, that YMM state also comes back.
//  8. stats().restore.msrsRefused: does PVM take IA32_TSC, CSTAR, KERNEL_GS_BASE? Does rdtsc after a
//     restore continue from the snapshot's TSC or read the host's? (Clocks do not depend on it.)
//  9. The real guest: snapshot after LOAD, the count starts over at 1 after reset and when restored.
// 10. Numbers against DESIGN.md: reset us/scanUs/copyUs/cpuUs for a trivial request (target tens of
//     µs), the next request's cost with dirty logging (3-4 µs per page written), the restore
//     breakdown (createVmUs, memoryUs, vcpuUs, stateUs, firstRunUs; 1.5-2.5 ms in all), PSS per
//     restored VM (smaps_rollup), and vm.max_map_count against the runs of real diffs.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const { createHarness, assert, throwsSync } = require('./harness.cjs');

const FN_CMD_NONE = 0;
const FN_CMD_INVOKE = 2;
const EV_READY = 1;
const EV_DONE = 2;
const EV_PANIC = 3;
const MiB = 1024 * 1024;

function request(command, input, timeoutMs = 5000) {
  return {
    command,
    input: input === null ? null : Buffer.from(input),
    nowUnixNs: BigInt(Date.now()) * 1000000n,
    entropy: crypto.randomBytes(32),
    timeoutMs,
  };
}

function exchange(vm, req) {
  return new Promise((resolve, reject) => {
    vm.exchange(req, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function snapshot(vm, opts) {
  return new Promise((resolve, reject) => {
    vm.snapshot(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function reset(vm) {
  return new Promise((resolve, reject) => {
    vm.reset((err, res) => (err ? reject(err) : resolve(res)));
  });
}

function restore(addon, opts) {
  return new Promise((resolve, reject) => {
    addon.NativeMicroVm.restore(opts, (err, vm) => (err ? reject(err) : resolve(vm)));
  });
}

// The symbols of an ELF64's .symtab (name -> address as BigInt): the probe guest's `at_*` labels name
// the instruction each fault scenario faults on.
function elfSymbols(buf) {
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const section = (i) => shoff + i * shentsize;
  const syms = new Map();
  for (let i = 0; i < shnum; i++) {
    const sh = section(i);
    if (buf.readUInt32LE(sh + 4) !== 2) continue; // SHT_SYMTAB
    const off = Number(buf.readBigUInt64LE(sh + 0x18));
    const size = Number(buf.readBigUInt64LE(sh + 0x20));
    const entsize = Number(buf.readBigUInt64LE(sh + 0x38));
    const strtab = Number(buf.readBigUInt64LE(section(buf.readUInt32LE(sh + 0x28)) + 0x18));
    for (let o = off; o < off + size; o += entsize) {
      const start = strtab + buf.readUInt32LE(o);
      const end = buf.indexOf(0, start);
      if (end > start) syms.set(buf.toString('latin1', start, end), buf.readBigUInt64LE(o + 8));
    }
  }
  return syms;
}

// cpu.bin (cpu_state.h): the CPUID section's feature words, and where each one's bits are.
function cpuFeatureWords(cpu) {
  const words = [];
  for (let pos = 56; pos < cpu.length - 4; ) {
    const tag = cpu.readUInt32LE(pos);
    const len = cpu.readUInt32LE(pos + 4);
    if (tag === 6) {
      const count = cpu.readUInt32LE(pos + 8);
      for (let i = 0; i < count; i++) {
        const q = pos + 16 + i * 16;
        words.push({ fn: cpu.readUInt32LE(q), index: cpu.readUInt32LE(q + 4), reg: cpu.readUInt32LE(q + 8), bits: cpu.readUInt32LE(q + 12), at: q + 12 });
      }
    }
    pos += 8 + ((len + 7) & ~7);
  }
  return words;
}
// A changed cpu.bin with its CRC-32 (zlib) made right again, so the check under test refuses it.
function resealCpu(cpu) {
  cpu.writeUInt32LE(zlib.crc32(cpu.subarray(0, cpu.length - 4)) >>> 0, cpu.length - 4);
  return cpu;
}

async function expectRejection(promise, check, what) {
  let res;
  try {
    res = await promise;
  } catch (e) {
    if (!check(e)) throw new Error(`${what}: unexpected error ${e.code}/${e.kind}/${e.errorName}/${e.reason}: ${e.message}`);
    return e;
  }
  if (res && typeof res.close === 'function') res.close();
  throw new Error(`${what}: expected an error`);
}

async function expectError(promise, kind) {
  try {
    const res = await promise;
    throw new Error(`expected error kind '${kind}', got event ${res.event}`);
  } catch (e) {
    if (e.kind !== kind) throw new Error(`expected kind '${kind}', got '${e.kind}': ${e.message}`);
    return e;
  }
}

// opts.fake: running against fake_kvm.so, whose scripted guest cannot produce real CPU faults; the
// scenarios that need a real CPU (page protections, the I/O bitmap, NX, hlt) are skipped there.
async function run(addon, probeElfPath, opts = {}) {
  const h = createHarness(opts.fake ? 'fake-kvm' : 'kvm');
  const cpu = (name, fn) => (opts.fake ? undefined : h.test(name, fn));
  const elf = fs.readFileSync(probeElfPath);
  const symbols = elfSymbols(elf);
  const sym = (name) => {
    assert(symbols.has(name), `probe_guest.elf has no symbol ${name}`);
    return symbols.get(name);
  };

  async function booted(memoryBytes = 64 * MiB) {
    const vm = new addon.NativeMicroVm({ memoryBytes, guestElf: elf });
    const ready = await exchange(vm, request(FN_CMD_NONE, null));
    assert(ready.event === EV_READY, `boot event ${ready.event}`);
    return vm;
  }
  async function scenario(letter, kind, timeoutMs = 5000, memoryBytes = 64 * MiB) {
    const vm = await booted(memoryBytes);
    try {
      const e = await expectError(exchange(vm, request(FN_CMD_INVOKE, letter, timeoutMs)), kind);
      const again = throwsSync(() => vm.exchange(request(FN_CMD_INVOKE, 'e'), () => {}), 'dead');
      assert(again.kind === 'dead' && again.reason === kind, `after ${kind}: ${again.kind}/${again.reason}`);
      return e;
    } finally {
      vm.close();
    }
  }

  h.test('boots to READY, echoes, and serves again', async () => {
    const vm = await booted();
    for (const text of ['e-hello', 'e-second']) {
      const r = await exchange(vm, request(FN_CMD_INVOKE, text));
      assert(r.event === EV_DONE && r.status === 0, `event ${r.event} status ${r.status}`);
      assert(r.output.toString() === text, `output ${r.output}`);
      assert(r.guestNs === 7n && r.heapUsed === 4096n && r.heapPeak === 8192n, 'report fields');
      assert(typeof r.hostRunNs === 'bigint' && r.hostRunNs > 0n, 'hostRunNs');
    }
    const s = vm.stats();
    assert(s.memoryBytes === 64 * MiB && typeof s.rssBytes === 'number' && s.rssBytes > 0, JSON.stringify(s));
    vm.close();
    vm.close();
    assert(vm.stats().rssBytes === undefined, 'no rss after close');
  });
  h.test('SLEEP is served on the vCPU thread, then DONE', async () => {
    const vm = await booted();
    const r = await exchange(vm, request(FN_CMD_INVOKE, 'z'));
    assert(r.event === EV_DONE, `event ${r.event}`);
    vm.close();
  });
  // A CPU exception, caught by the VMM's IDT (long_mode.h) and reported from its frame: the vector,
  // the error code, the faulting instruction (the probe guest's `at_*` label; fake_kvm.so uses
  // fixed addresses of its own), CR2 for a #PF, CPL 3.
  const hex = (v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v));
  async function fault(letter, want, memoryBytes = 64 * MiB) {
    const e = await scenario(letter, 'guest_fault', 5000, memoryBytes);
    const got = `vector ${e.vector} (${e.exception}) errorCode ${hex(e.errorCode)} rip ${hex(e.rip)} cr2 ${hex(e.cr2)} cpl ${e.cpl}: ${e.message}`;
    assert(e.vector === want.vector && e.exception === want.exception, got);
    if (want.errorCode !== undefined) assert(e.errorCode === want.errorCode, got);
    if (want.cr2 !== undefined) assert(e.cr2 === want.cr2, got);
    if (want.at !== undefined && !opts.fake) assert(e.rip === sym(want.at), `${got}; expected RIP ${want.at} = ${hex(sym(want.at))}`);
    assert(e.cpl === 3 && typeof e.rsp === 'bigint' && e.message.includes(want.exception), got);
    return e;
  }
  // Inside scripts/with-kvm's nested machine (QEMU's TCG emulating SVM): for emulator quirks only.
  const nested = process.env.FN_KVM_NESTED === '1' || process.env.FN_KVM_NESTED_TR_AVAILABLE === '1';
  const PF = { vector: 14, exception: '#PF' };
  const GP = { vector: 13, exception: '#GP' };

  h.test('a spinning guest times out and the VM is dead', () => scenario('s', 'timeout', 200));
  h.test('a stray syscall lands on the stub and is reported with its number and return RIP', async () => {
    const e = await scenario('c', 'syscall');
    assert(e.syscallNumber === 39, `syscallNumber ${e.syscallNumber}`);
    const want = opts.fake ? 0x401234n : sym('after_syscall');
    assert(e.rip === want, `rip 0x${e.rip.toString(16)}, expected 0x${want.toString(16)}: ${e.message}`);
  });
  h.test('NULL read: #PF, not present, reading, CR2 0', () => fault('n', { ...PF, errorCode: 4, cr2: 0n, at: 'at_null_read' }));
  h.test('a port outside the I/O bitmap: #GP(0) at the out', () => fault('p', { ...GP, errorCode: 0, at: 'at_bad_port' }));
  h.test('ud2: #UD at the instruction', () => fault('d', { vector: 6, exception: '#UD', errorCode: 0, at: 'at_ud' }));
  h.test('divide by zero: #DE, the stub supplies the missing error code', () => fault('v', { vector: 0, exception: '#DE', errorCode: 0, at: 'at_div' }));
  h.test('int3 through a DPL0 gate: #GP naming IDT entry 3, not a breakpoint', async () => {
    if (!nested || opts.fake) return fault('k', { ...GP, errorCode: (3 << 3) | 2, at: 'at_int3' });
    // Inside the nested test machine (QEMU 7.2's TCG), the #GP of a software interrupt carries
    // error code vector * 16 + 2 instead of vector * 8 + 2 (QEMU issue 1382, fixed in QEMU 8.0), and
    // its RIP was seen one byte past the int3 now and then; hardware does neither. Still a #GP
    // naming vector 3, never a #BP and never a stub reached from CPL3.
    const e = await fault('k', { ...GP });
    assert(e.errorCode === ((3 << 3) | 2) || e.errorCode === 3 * 16 + 2, `errorCode ${hex(e.errorCode)}`);
    assert(e.rip === sym('at_int3') || e.rip === sym('at_int3') + 1n, `rip ${hex(e.rip)}`);
  });
  h.test('the fault port from CPL3 is denied: a #GP, never a forged report', () => fault('q', { ...GP, errorCode: 0, at: 'at_forge' }));
  h.test('a port inside the doorbell dword but not the doorbell is bad_io', () => scenario('x', 'bad_io'));
  h.test('the syscall port from CPL3 is bad_io, not a syscall', () => scenario('f', 'bad_io'));
  h.test('a byte-wide doorbell is bad_io', () => scenario('w', 'bad_io'));
  h.test('an unknown event is bad_io', () => scenario('u', 'bad_io'));
  h.test('a hostile output_len is bad_window', async () => {
    const e = await scenario('h', 'bad_window');
    assert(e.field === 'output_len' && e.value === 0xffffffffn, `${e.field}=${e.value}`);
  });
  h.test('an out-of-range status is bad_window', async () => {
    const e = await scenario('t', 'bad_window');
    assert(e.field === 'status', e.field);
  });
  h.test('hlt at CPL3: #GP(0)', () => fault('H', { ...GP, errorCode: 0, at: 'at_halt' }));
  h.test('executing the stack (NX): #PF on the instruction fetch, RIP = CR2', async () => {
    const e = await fault('X', { ...PF, errorCode: 0x15 });
    assert(e.rip === e.cr2 && e.cr2 > BigInt(64 * MiB - MiB) && e.cr2 < BigInt(64 * MiB), `rip ${hex(e.rip)} cr2 ${hex(e.cr2)}`);
  });
  h.test('writing the boot info page (user read-only): #PF, protection, CR2 0x6000', () =>
    fault('b', { ...PF, errorCode: 7, cr2: 0x6000n, at: 'at_write_boot' }),
  );
  h.test('reading the GDT (supervisor only): #PF, protection, CR2 0x1000', () => fault('g', { ...PF, errorCode: 5, cr2: 0x1000n, at: 'at_read_gdt' }));
  // Privileged instructions at CPL3, and reads outside what the page tables map (issue 13's hostile
  // guest list): each a #GP or #PF naming the instruction, the VM dead, the host fine. Real CPU only.
  cpu('wrmsr at CPL3: #GP(0)', () => fault('m', { ...GP, errorCode: 0, at: 'at_wrmsr' }));
  cpu('cli at CPL3: #GP(0)', () => fault('l', { ...GP, errorCode: 0, at: 'at_cli' }));
  cpu('lgdt at CPL3: #GP(0)', () => fault('L', { ...GP, errorCode: 0, at: 'at_lgdt' }));
  cpu('reading the first byte past guest RAM: #PF, not present, CR2 = memory size', () =>
    fault('o', { ...PF, errorCode: 4, cr2: BigInt(64 * MiB), at: 'at_past_ram' }),
  );
  cpu('reading past the end of the window: #PF, not present', () =>
    fault('A', { ...PF, errorCode: 4, cr2: 0x100000000n + 0x800000n + 0x10000n, at: 'at_past_window' }),
  );
  cpu('reading a non-canonical address: #GP(0)', () => fault('N', { ...GP, errorCode: 0, at: 'at_non_canonical' }));
  cpu('output_len one past the window is bad_window', async () => {
    const e = await scenario('y', 'bad_window');
    assert(e.field === 'output_len' && e.value === 0x7ff001n, `${e.field}=${e.value}`);
  });
  // The stack guard page (fn_abi.h FN_STACK_GUARD_SIZE): not mapped, between the heap and the stack.
  // fake_kvm.so walks the page tables the addon wrote, so these run there too.
  const STACK = 1 * MiB;
  const GUARD = 4096;
  for (const mib of [8, 18, 64]) {
    const guard = BigInt(mib * MiB - STACK - GUARD);
    h.test(`${mib} MiB: writing the stack guard page faults with CR2 = the guard, its neighbours do not`, () =>
      fault('G', { ...PF, errorCode: 6, cr2: guard, at: 'at_write_guard' }, mib * MiB),
    );
  }
  h.test('a stack overflow faults in the guard page instead of writing the heap, and is still reported', async () => {
    // The fault stubs run on their own stack (IST): the guest's is the very thing that failed.
    const e = await fault('O', { ...PF, errorCode: 6, at: 'overflow' });
    const guard = BigInt(64 * MiB - STACK - GUARD);
    assert(e.cr2 >= guard && e.cr2 < guard + BigInt(GUARD), `cr2 0x${e.cr2.toString(16)}, guard 0x${guard.toString(16)}`);
    assert(e.rsp === e.cr2 + 8n, `the push faulted: rsp ${hex(e.rsp)} cr2 ${hex(e.cr2)}`);
  });
  h.test('PANIC is a result, and then the VM is dead', async () => {
    const vm = await booted();
    const r = await exchange(vm, request(FN_CMD_INVOKE, 'P'));
    assert(r.event === EV_PANIC && r.output.toString() === 'boom', `event ${r.event} output ${r.output}`);
    const e = throwsSync(() => vm.exchange(request(FN_CMD_INVOKE, 'e'), () => {}), 'dead');
    assert(e.kind === 'dead' && e.reason === 'panic', `${e.kind}/${e.reason}`);
    vm.close();
  });
  h.test('close() wakes a guest sleeping on the vCPU thread', async () => {
    const vm = await booted();
    const running = exchange(vm, request(FN_CMD_INVOKE, 'Z', 600000));
    await new Promise((r) => setTimeout(r, 20));
    vm.close();
    await expectError(running, 'closed');
  });
  h.test('a sleeping guest still times out at its deadline', () => scenario('Z', 'timeout', 100));
  h.test('one exchange at a time; close() answers the running one with closed', async () => {
    const vm = await booted();
    const running = exchange(vm, request(FN_CMD_INVOKE, 's', 60000));
    const busy = throwsSync(() => vm.exchange(request(FN_CMD_INVOKE, 'e'), () => {}), 'busy');
    assert(busy.kind === 'busy', busy.kind);
    vm.close();
    await expectError(running, 'closed');
    const closed = throwsSync(() => vm.exchange(request(FN_CMD_INVOKE, 'e'), () => {}), 'closed');
    assert(closed.kind === 'closed', closed.kind);
  });
  h.test('bad input throws bad_input and leaves the VM usable', async () => {
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 * MiB, guestElf: elf });
    const first = throwsSync(() => vm.exchange(request(FN_CMD_INVOKE, 'e'), () => {}), 'invoke before boot');
    assert(first.kind === 'bad_input', first.kind);
    await exchange(vm, request(FN_CMD_NONE, null));
    const cases = [
      { ...request(FN_CMD_NONE, null) },
      { ...request(FN_CMD_INVOKE, 'e'), command: 7 },
      { ...request(FN_CMD_INVOKE, 'e'), entropy: Buffer.alloc(31) },
      { ...request(FN_CMD_INVOKE, 'e'), nowUnixNs: 5 },
      { ...request(FN_CMD_INVOKE, 'e'), nowUnixNs: -1n },
      { ...request(FN_CMD_INVOKE, 'e'), timeoutMs: 0 },
      { ...request(FN_CMD_INVOKE, 'e'), input: 'e' },
      { ...request(FN_CMD_INVOKE, 'e'), input: Buffer.alloc(8 * MiB) },
    ];
    for (const req of cases) {
      const e = throwsSync(() => vm.exchange(req, () => {}), JSON.stringify(Object.keys(req)));
      assert(e.kind === 'bad_input', `${e.kind}: ${e.message}`);
    }
    const r = await exchange(vm, request(FN_CMD_INVOKE, 'e-still-fine'));
    assert(r.output.toString() === 'e-still-fine', 'usable after bad input');
    vm.close();
  });
  h.test('many VMs in one process', async () => {
    const vms = [];
    for (let i = 0; i < 20; i++) vms.push(await booted());
    const outs = await Promise.all(vms.map((vm, i) => exchange(vm, request(FN_CMD_INVOKE, `e${i}`))));
    outs.forEach((r, i) => assert(r.output.toString() === `e${i}`, `vm ${i}`));
    vms.forEach((vm) => vm.close());
  });

  // ---- snapshot, restore, reset -------------------------------------------------------------
  // The probe guest keeps state where a real one does: a counter in .data and one in R14 ('i'),
  // pages it touches ('T'), MXCSR ('M'), the FS segment ('F', 'S'); and it can leave data in the
  // window ('W', 'R'). Under fake_kvm.so its scripted twin keeps the same state in the same places.
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), opts.fake ? 'fn-snap-fake-' : 'fn-snap-kvm-'));
  let dirs = 0;
  const newDir = () => path.join(tmpRoot, `s${++dirs}`);
  const invoke = async (vm, text) => {
    const r = await exchange(vm, request(FN_CMD_INVOKE, text));
    assert(r.event === EV_DONE && r.status === 0, `${text}: event ${r.event} status ${r.status}`);
    return r.output;
  };
  const count = async (vm) => {
    const out = await invoke(vm, 'i');
    return `${out.readBigUInt64LE(0)},${out.readBigUInt64LE(8)}`;
  };
  // 'T' touches 8 pages below heap_end, or 8 x n with a second input byte n; 'U' zeroes them.
  const touched = async (vm, n) => (await invoke(vm, n ? `T${String.fromCharCode(n)}` : 'T')).readBigUInt64LE(0);
  const untouch = (vm, n) => invoke(vm, n ? `U${String.fromCharCode(n)}` : 'U');
  const u64 = (buf, at = 0) => buf.readBigUInt64LE(at);

  h.test('snapshot at READY: a sparse memory.img of exactly memoryBytes, pages.bin and cpu.bin', async () => {
    const vm = await booted();
    try {
      const dir = newDir();
      const r = await snapshot(vm, { dir });
      assert(r.pages > 0 && r.bytes >= r.pages * 4096 && r.diffPages === undefined, JSON.stringify(r));
      assert(typeof r.ms === 'number' && typeof r.writeMs === 'number' && typeof r.rebaseMs === 'number', JSON.stringify(r));
      const img = fs.statSync(path.join(dir, 'memory.img'));
      assert(img.size === 64 * MiB, `memory.img is ${img.size} bytes`);
      assert(img.blocks * 512 <= r.pages * 4096 + 1 * MiB, `memory.img holds ${img.blocks * 512} bytes on disk for ${r.pages} pages`);
      const cpu = fs.readFileSync(path.join(dir, 'cpu.bin'));
      assert(cpu.subarray(0, 8).toString('latin1') === 'FNCPUST\0' && cpu.subarray(16, 19).toString() === 'kvm', 'cpu.bin header');
      const pages = fs.readFileSync(path.join(dir, 'pages.bin'));
      assert(pages.subarray(0, 8).toString('latin1') === 'FNPAGES\0' && pages.readUInt32LE(12) === 0, 'pages.bin: full');
      assert(pages.subarray(32, 48).equals(cpu.subarray(24, 40)), 'pages.bin and cpu.bin carry the same snapshot id');
      assert(fs.readdirSync(dir).sort().join() === 'cpu.bin,memory.img,pages.bin', `no temporaries left: ${fs.readdirSync(dir)}`);
      const st = vm.stats();
      assert(st.hasSnapshot === true && st.snapshots === 1, JSON.stringify(st));
    } finally {
      vm.close();
    }
  });
  h.test('reset returns RAM and registers to the snapshot: the counter starts over', async () => {
    const vm = await booted();
    try {
      await snapshot(vm, { dir: newDir() });
      assert((await count(vm)) === '1,1', 'first count');
      assert((await count(vm)) === '2,2', 'second count, no reset');
      // The counter's page (probe_guest.S .data, which holds a non-zero marker) is a data page of
      // the snapshot: reset copies it back. (A page all zeros at the snapshot would be zeroed.)
      const r = await reset(vm);
      assert(r.dirtyPages >= 1 && r.copiedPages >= 1 && typeof r.us === 'number', JSON.stringify(r));
      assert((await count(vm)) === '1,1', 'after reset');
      await reset(vm);
      assert((await count(vm)) === '1,1', 'after a second reset');
      const st = vm.stats();
      assert(st.resets === 2 && st.lastReset && st.lastReset.dirtyPages >= 1, JSON.stringify(st));
    } finally {
      vm.close();
    }
  });
  h.test('reset undoes pages first touched after the snapshot', async () => {
    const vm = await booted();
    try {
      await snapshot(vm, { dir: newDir() });
      assert((await touched(vm)) === 0n, 'fresh pages are zero');
      assert((await touched(vm)) === 8n, 'the guest sees its own writes');
      const r = await reset(vm);
      assert(r.zeroedPages >= 8 && r.droppedPages === 0, `a few are zeroed in place: ${JSON.stringify(r)}`);
      assert((await touched(vm)) === 0n, 'zero again after reset');
      await reset(vm);
      assert((await touched(vm, 64)) === 0n && (await touched(vm, 64)) === 512n, '512 fresh pages');
      const big = await reset(vm);
      assert(big.droppedPages >= 512 && big.zeroedPages === 0, `many are given back: ${JSON.stringify(big)}`);
      assert((await touched(vm, 64)) === 0n, 'zero again after the big reset');
    } finally {
      vm.close();
    }
  });
  h.test('reset sets segment registers the guest changed (FS)', async () => {
    const vm = await booted();
    try {
      await snapshot(vm, { dir: newDir() });
      assert(u64(await invoke(vm, 'S')) === 0x5a17n, 'TLS marker through FS');
      await invoke(vm, 'F');
      const r = await reset(vm);
      assert(r.sregsSet === true, JSON.stringify(r));
      assert(u64(await invoke(vm, 'S')) === 0x5a17n, 'FS restored');
      const quiet = await reset(vm);
      assert(quiet.sregsSet === false, 'sregs left alone when the guest did not touch them');
    } finally {
      vm.close();
    }
    const e = await scenarioAfter('F', 'S', 'guest_fault');
    assert(e.cr2 === 0x10n && e.vector === 14, `without a reset FS stays broken: cr2 0x${e.cr2.toString(16)} vector ${e.vector}`);
    if (!opts.fake) assert(e.rip === sym('at_read_tls'), `rip ${hex(e.rip)}`);
  });
  h.test('reset restores SSE state (MXCSR)', async () => {
    const vm = await booted();
    try {
      await snapshot(vm, { dir: newDir() });
      assert((await invoke(vm, 'M')).readUInt32LE(0) === 0x1f80, 'initial MXCSR');
      assert((await invoke(vm, 'M')).readUInt32LE(0) === 0x7f80, 'the guest changed it');
      await reset(vm);
      assert((await invoke(vm, 'M')).readUInt32LE(0) === 0x1f80, 'MXCSR after reset');
    } finally {
      vm.close();
    }
  });
  h.test('reset leaves nothing of an invocation in the window', async () => {
    const vm = await booted();
    try {
      await snapshot(vm, { dir: newDir() });
      await invoke(vm, `e${'A'.repeat(63)}`);
      await invoke(vm, 'W');
      const leftover = await invoke(vm, 'R');
      assert(u64(leftover, 0) !== 0n && u64(leftover, 8) !== 0n, 'without a reset the window keeps both');
      const r = await reset(vm);
      assert(r.windowPages >= 2, `windowPages ${r.windowPages}`);
      const clean = await invoke(vm, 'R');
      assert(u64(clean, 0) === 0n && u64(clean, 8) === 0n, `after reset: ${clean.toString('hex')}`);
    } finally {
      vm.close();
    }
  });
  h.test("restore: a new VM idle at the snapshot's doorbell, counters where the snapshot left them", async () => {
    const a = await booted();
    const dir = newDir();
    try {
      assert((await count(a)) === '1,1', 'before the snapshot');
      await snapshot(a, { dir });
      assert((await count(a)) === '2,2', 'the snapshotting VM carries on');
    } finally {
      a.close();
    }
    const b = await restore(addon, { memoryBytes: 64 * MiB, dir });
    try {
      const boot = throwsSync(() => b.exchange(request(FN_CMD_NONE, null), () => {}), 'no boot after restore');
      assert(boot.kind === 'bad_input', boot.kind);
      const st0 = b.stats();
      for (const k of ['filesUs', 'createVmUs', 'memoryUs', 'vcpuUs', 'stateUs', 'totalUs'])
        assert(typeof st0.restore[k] === 'number' && st0.restore[k] >= 0, `restore.${k}: ${JSON.stringify(st0.restore)}`);
      assert(st0.restore.firstRunUs === undefined && st0.hasSnapshot === true, JSON.stringify(st0));
      assert((await count(b)) === '2,2', 'restored counters + 1');
      assert(typeof b.stats().restore.firstRunUs === 'number', 'firstRunUs after the first exchange');
      await reset(b);
      assert((await count(b)) === '2,2', 'reset to the restored snapshot');
      assert(u64(await invoke(b, 'S')) === 0x5a17n && (await invoke(b, 'M')).readUInt32LE(0) === 0x1f80, 'FS and MXCSR');
    } finally {
      b.close();
    }
  });
  h.test('a diff over a base: only the pages that differ, restored over the base', async () => {
    const a = await booted();
    const base = newDir();
    const diff = newDir();
    try {
      const full = await snapshot(a, { dir: base });
      assert((await count(a)) === '1,1', 'count');
      const d = await snapshot(a, { dir: diff, baseMemoryPath: path.join(base, 'memory.img') });
      assert(d.diffPages >= 1 && d.runs >= 1 && d.diffPages < full.pages, JSON.stringify({ full, d }));
      const pages = fs.readFileSync(path.join(diff, 'pages.bin'));
      assert(pages.readUInt32LE(12) === 1 && pages.readUInt32LE(28) === d.runs, 'pages.bin: layered, runs');
      assert(pages.subarray(48, 64).equals(fs.readFileSync(path.join(base, 'pages.bin')).subarray(32, 48)), 'names its base');
      assert((await count(a)) === '2,2', 'carries on from the diff');
      await reset(a);
      assert((await count(a)) === '2,2', 'reset returns to the diff snapshot');
    } finally {
      a.close();
    }
    const b = await restore(addon, { memoryBytes: 64 * MiB, dir: diff, baseMemoryPath: path.join(base, 'memory.img') });
    try {
      assert((await count(b)) === '2,2', 'restored from base + diff');
      assert(b.stats().restore.diffPages >= 1, JSON.stringify(b.stats().restore));
    } finally {
      b.close();
    }
    const c = await restore(addon, { memoryBytes: 64 * MiB, dir: base });
    try {
      assert((await count(c)) === '1,1', 'the base alone is still the READY state');
    } finally {
      c.close();
    }
    await expectRejection(
      restore(addon, { memoryBytes: 64 * MiB, dir: diff }),
      (e) => e.code === 'SNAPSHOT_ERROR' && e.reason === 'layout',
      'a diff without its base',
    );
    await expectRejection(
      restore(addon, { memoryBytes: 64 * MiB, dir: base, baseMemoryPath: path.join(diff, 'memory.img') }),
      (e) => e.code === 'SNAPSHOT_ERROR' && e.reason === 'layout',
      'a full snapshot given a base',
    );
    const other = newDir();
    const o = await booted();
    await snapshot(o, { dir: other });
    o.close();
    await expectRejection(
      restore(addon, { memoryBytes: 64 * MiB, dir: diff, baseMemoryPath: path.join(other, 'memory.img') }),
      (e) => e.code === 'SNAPSHOT_ERROR' && e.reason === 'base',
      'a diff over the wrong base',
    );
  });
  h.test('the VM that took a snapshot runs from it, and can take another', async () => {
    const vm = await booted();
    const second = newDir();
    try {
      await snapshot(vm, { dir: newDir() });
      assert((await count(vm)) === '1,1', 'count');
      assert((await touched(vm)) === 0n, 'pages first touched after the first snapshot');
      await snapshot(vm, { dir: second });
      assert((await count(vm)) === '2,2', 'count after the second snapshot');
      await reset(vm);
      assert((await count(vm)) === '2,2', 'reset to the second snapshot');
      assert((await touched(vm)) === 8n, 'the second snapshot holds them');
    } finally {
      vm.close();
    }
    const b = await restore(addon, { memoryBytes: 64 * MiB, dir: second });
    try {
      assert((await touched(b)) === 8n && (await count(b)) === '2,2', 'so does a VM restored from it');
    } finally {
      b.close();
    }
  });
  h.test('after a snapshot, reset drops first-touched pages to the new snapshot, not to the files the VM came from', async () => {
    // X has data in 512 pages; Y (taken from a VM restored from X) has them zeroed, so they are
    // holes in Y. A reset that drops them (512 is enough to drop rather than zero) must show Y's
    // zeros: only true if the snapshot switched the VM's memory over to Y's files.
    const a = await booted();
    const x = newDir();
    try {
      await touched(a, 64);
      await snapshot(a, { dir: x });
    } finally {
      a.close();
    }
    const b = await restore(addon, { memoryBytes: 64 * MiB, dir: x });
    try {
      await untouch(b, 64);
      await snapshot(b, { dir: newDir() });
      assert((await touched(b, 64)) === 0n, 'zero in Y');
      const r = await reset(b);
      assert(r.droppedPages >= 512, `dropped, not zeroed: ${JSON.stringify(r)}`);
      assert((await touched(b, 64)) === 0n, 'still zero after reset (X would say 512)');
    } finally {
      b.close();
    }
  });
  h.test('a snapshot records the CPU features, and restore refuses a CPU that lacks one', async () => {
    const vm = await booted();
    const dir = newDir();
    try {
      await snapshot(vm, { dir });
    } finally {
      vm.close();
    }
    const cpuBin = fs.readFileSync(path.join(dir, 'cpu.bin'));
    const words = cpuFeatureWords(cpuBin);
    const leaf1 = (reg) => words.find((w) => w.fn === 1 && w.index === 0 && w.reg === reg);
    assert(words.length > 0 && words.some((w) => w.bits !== 0), `no CPU features recorded: ${JSON.stringify(words)}`);
    assert(leaf1(2) && leaf1(2).bits !== 0, `CPUID.1:ECX recorded as ${JSON.stringify(leaf1(2))}`);
    // Every x86-64 CPU has an FPU, TSC, CX8, CMOV, SSE2 (CPUID.1:EDX bits 0, 4, 8, 15, 26).
    if (!opts.fake) assert((leaf1(3).bits & 0x4008111) === 0x4008111, `CPUID.1:EDX 0x${leaf1(3).bits.toString(16)}`);
    // The same snapshot, claiming every bit of CPUID.1:ECX (some are reserved: no CPU has them all).
    const other = newDir();
    fs.mkdirSync(other);
    for (const n of ['pages.bin', 'memory.img']) fs.copyFileSync(path.join(dir, n), path.join(other, n));
    const edited = Buffer.from(cpuBin);
    edited.writeUInt32LE(0xffffffff, leaf1(2).at);
    fs.writeFileSync(path.join(other, 'cpu.bin'), resealCpu(edited));
    const e = await expectRejection(
      restore(addon, { memoryBytes: 64 * MiB, dir: other }),
      (x) => x.code === 'SNAPSHOT_ERROR' && x.reason === 'cpu_features',
      'a CPU without the features',
    );
    assert(/CPUID\.1:ECX bits 0x[0-9a-f]{8}/.test(e.message), e.message);
    const ok = await restore(addon, { memoryBytes: 64 * MiB, dir });
    try {
      assert((await count(ok)) === '1,1', 'the unedited snapshot restores');
    } finally {
      ok.close();
    }
  });
  h.test('restore refuses damaged, mixed or mismatched files with typed errors', async () => {
    const vm = await booted();
    const good = newDir();
    const twin = newDir();
    try {
      await snapshot(vm, { dir: good });
      await snapshot(vm, { dir: twin });
    } finally {
      vm.close();
    }
    const copy = (from, names) => {
      const d = newDir();
      fs.mkdirSync(d);
      for (const n of ['cpu.bin', 'pages.bin', 'memory.img']) fs.copyFileSync(path.join(names[n] || from, n), path.join(d, n));
      return d;
    };
    const snapErr = (name, reason) => (e) => e.code === 'SNAPSHOT_ERROR' && e.errorName === name && (!reason || e.reason === reason);
    const bad = copy(good, {});
    const cpu = fs.readFileSync(path.join(bad, 'cpu.bin'));
    cpu[100] ^= 0xff;
    fs.writeFileSync(path.join(bad, 'cpu.bin'), cpu);
    await expectRejection(restore(addon, { memoryBytes: 64 * MiB, dir: bad }), snapErr('SnapshotCorruptError', 'corrupt'), 'flipped byte');
    const short = copy(good, {});
    fs.truncateSync(path.join(short, 'memory.img'), 32 * MiB);
    await expectRejection(restore(addon, { memoryBytes: 64 * MiB, dir: short }), snapErr('SnapshotMemoryFileError', 'size'), 'short memory.img');
    const cut = copy(good, {});
    fs.truncateSync(path.join(cut, 'cpu.bin'), 40);
    await expectRejection(restore(addon, { memoryBytes: 64 * MiB, dir: cut }), snapErr('SnapshotTruncatedError', 'truncated'), 'short cpu.bin');
    const mixed = copy(good, { 'cpu.bin': twin });
    await expectRejection(restore(addon, { memoryBytes: 64 * MiB, dir: mixed }), snapErr('SnapshotError', 'mismatch'), 'mixed files');
    await expectRejection(restore(addon, { memoryBytes: 32 * MiB, dir: good }), snapErr('SnapshotError', 'memory_size'), 'other memory size');
    await expectRejection(restore(addon, { memoryBytes: 64 * MiB, dir: path.join(tmpRoot, 'nope') }), snapErr('SnapshotError', 'missing'), 'no dir');
    const noImage = copy(good, {});
    fs.unlinkSync(path.join(noImage, 'memory.img'));
    await expectRejection(restore(addon, { memoryBytes: 64 * MiB, dir: noImage }), snapErr('SnapshotMemoryFileError', 'missing'), 'no memory.img');
    await expectRejection(restore(addon, { memoryBytes: 3 * MiB, dir: good }), (e) => e.code === 'BAD_OPTIONS', 'bad memoryBytes');
    for (const args of [
      [],
      [{ memoryBytes: 64 * MiB, dir: good }],
      [{ memoryBytes: 64 * MiB }, () => {}],
      [{ memoryBytes: 64 * MiB, dir: '' }, () => {}],
      [{ memoryBytes: 64 * MiB, dir: good, baseMemoryPath: 7 }, () => {}],
      [{ memoryBytes: '64', dir: good }, () => {}],
    ]) {
      const e = throwsSync(() => addon.NativeMicroVm.restore(...args), JSON.stringify(args));
      assert(e.code === 'BAD_OPTIONS', `${JSON.stringify(args)}: ${e.code} ${e.message}`);
    }
  });
  h.test('snapshot and reset are refused synchronously when the VM cannot take them', async () => {
    const fresh = new addon.NativeMicroVm({ memoryBytes: 64 * MiB, guestElf: elf });
    try {
      const e = throwsSync(() => fresh.snapshot({ dir: newDir() }, () => {}), 'before boot');
      assert(e.kind === 'not_at_doorbell', e.kind);
      const r = throwsSync(() => fresh.reset(() => {}), 'no snapshot');
      assert(r.kind === 'no_snapshot', r.kind);
    } finally {
      fresh.close();
    }
    const vm = await booted();
    try {
      assert(throwsSync(() => vm.reset(() => {}), 'no snapshot yet').kind === 'no_snapshot', 'reset before a snapshot');
      for (const opts of [null, {}, { dir: 5 }, { dir: '' }, { dir: 'x', baseMemoryPath: '' }]) {
        const e = throwsSync(() => vm.snapshot(opts, () => {}), JSON.stringify(opts));
        assert(e.kind === 'bad_input', `${JSON.stringify(opts)}: ${e.kind}`);
      }
      const running = exchange(vm, request(FN_CMD_INVOKE, 's', 60000));
      assert(throwsSync(() => vm.snapshot({ dir: newDir() }, () => {}), 'busy').kind === 'busy', 'snapshot while running');
      assert(throwsSync(() => vm.reset(() => {}), 'busy').kind === 'busy', 'reset while running');
      vm.close();
      await expectError(running, 'closed');
      assert(throwsSync(() => vm.snapshot({ dir: newDir() }, () => {}), 'closed').kind === 'closed', 'after close');
      assert(throwsSync(() => vm.reset(() => {}), 'closed').kind === 'closed', 'reset after close');
    } finally {
      vm.close();
    }
    const dead = await booted();
    try {
      await snapshot(dead, { dir: newDir() });
      const f = await expectError(exchange(dead, request(FN_CMD_INVOKE, 'n')), 'guest_fault');
      assert(f.vector === 14 && f.cr2 === 0n, `a fault after a snapshot is caught the same way: ${f.message}`);
      const e = throwsSync(() => dead.reset(() => {}), 'dead');
      assert(e.kind === 'dead' && e.reason === 'guest_fault', `${e.kind}/${e.reason}`);
    } finally {
      dead.close();
    }
  });
  h.test('a snapshot into an unwritable place fails cleanly and the VM carries on', async () => {
    const vm = await booted();
    try {
      const file = path.join(tmpRoot, 'a-file');
      fs.writeFileSync(file, 'x');
      const e = await expectRejection(
        snapshot(vm, { dir: path.join(file, 'sub') }),
        (x) => x.kind === 'snapshot' && x.code === 'SNAPSHOT_ERROR' && x.reason === 'io',
        'dir under a file',
      );
      assert(typeof e.errno === 'number', 'errno');
      await expectRejection(
        snapshot(vm, { dir: newDir(), baseMemoryPath: path.join(tmpRoot, 'missing.img') }),
        (x) => x.kind === 'snapshot' && x.errorName === 'SnapshotMemoryFileError' && x.reason === 'missing',
        'missing base',
      );
      assert((await count(vm)) === '1,1', 'the VM is fine');
    } finally {
      vm.close();
    }
  });
  h.test('close() during a snapshot or reset answers and does not hang', async () => {
    const vm = await booted();
    const pending = snapshot(vm, { dir: newDir() });
    vm.close();
    try {
      await pending; // it may have finished before close() got there
    } catch (e) {
      assert(e.kind === 'closed', `${e.kind}: ${e.message}`);
    }
  });
  h.test('many VMs restored from one snapshot, each with its own memory', async () => {
    const src = await booted();
    const dir = newDir();
    await snapshot(src, { dir });
    src.close();
    const vms = [];
    for (let i = 0; i < 10; i++) vms.push(await restore(addon, { memoryBytes: 64 * MiB, dir }));
    try {
      await Promise.all(vms.map((vm) => count(vm)));
      const second = await Promise.all(vms.map((vm) => count(vm)));
      assert(
        second.every((c) => c === '2,2'),
        `second counts ${second}`,
      );
      await Promise.all(vms.map((vm) => reset(vm)));
      const again = await Promise.all(vms.map((vm) => count(vm)));
      assert(
        again.every((c) => c === '1,1'),
        `after reset ${again}`,
      );
    } finally {
      vms.forEach((vm) => vm.close());
    }
  });

  async function scenarioAfter(first, then, kind) {
    const vm = await booted();
    try {
      await invoke(vm, first);
      return await expectError(exchange(vm, request(FN_CMD_INVOKE, then)), kind);
    } finally {
      vm.close();
    }
  }

  const realGuest = process.env.FN_GUEST_ELF || path.resolve(__dirname, '../../../guest/build/fn-guest.elf');
  if (fs.existsSync(realGuest)) {
    h.test(`the real guest (${path.basename(realGuest)}) boots to READY`, async () => {
      const vm = new addon.NativeMicroVm({ memoryBytes: 64 * MiB, guestElf: fs.readFileSync(realGuest) });
      try {
        const r = await exchange(vm, request(FN_CMD_NONE, null, 10000));
        assert(r.event === EV_READY, `event ${r.event}: ${r.output}`);
      } finally {
        vm.close();
      }
    });
  }
  if (fs.existsSync(realGuest)) {
    // The real runtime: a module that counts its invocations. After a reset, and in a VM restored
    // from the snapshot taken right after LOAD, the count starts over at 1.
    const metaAnd = (meta, bytes) => {
      const m = Buffer.from(JSON.stringify(meta));
      const b = Buffer.from(bytes);
      const out = Buffer.alloc(4 + m.length + b.length);
      out.writeUInt32LE(m.length, 0);
      m.copy(out, 4);
      b.copy(out, 4 + m.length);
      return out;
    };
    const FN_CMD_LOAD = 1;
    const load = metaAnd({ name: 'counter', env: {}, memoryMiB: 64 }, 'let n = 0; export default { fetch() { n += 1; return new Response(String(n)); } };');
    const call = async (vm) => {
      const r = await exchange(vm, {
        ...request(FN_CMD_INVOKE, null, 10000),
        input: metaAnd({ method: 'GET', url: 'http://fn.test/', headers: [], invocationId: crypto.randomUUID(), deadlineMs: 10000 }, ''),
      });
      assert(r.event === EV_DONE && r.status === 0, `invoke: event ${r.event} status ${r.status} ${r.output}`);
      const metaLen = r.output.readUInt32LE(0);
      return r.output.subarray(4 + metaLen).toString();
    };
    cpu(`the real guest: snapshot after LOAD, the count starts over after reset and in a restored VM`, async () => {
      const vm = new addon.NativeMicroVm({ memoryBytes: 64 * MiB, guestElf: fs.readFileSync(realGuest) });
      const dir = newDir();
      try {
        assert((await exchange(vm, request(FN_CMD_NONE, null, 10000))).event === EV_READY, 'READY');
        const l = await exchange(vm, { ...request(FN_CMD_LOAD, null, 10000), input: load });
        assert(l.event === EV_DONE && l.status === 0, `LOAD: status ${l.status} ${l.output}`);
        const snap = await snapshot(vm, { dir });
        assert((await call(vm)) === '1' && (await call(vm)) === '2', 'counts');
        const r = await reset(vm);
        assert((await call(vm)) === '1', 'after reset');
        console.log(`    real guest: snapshot ${JSON.stringify(snap)}; reset ${JSON.stringify(r)}`);
      } finally {
        vm.close();
      }
      const b = await restore(addon, { memoryBytes: 64 * MiB, dir });
      try {
        assert((await call(b)) === '1' && (await call(b)) === '2', 'restored counts');
        await reset(b);
        assert((await call(b)) === '1', 'restored, after reset');
        console.log(`    real guest: restore ${JSON.stringify(b.stats().restore)}`);
      } finally {
        b.close();
      }
    });
  }
  const failed = await h.run();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
  return failed;
}

module.exports = { run };

if (require.main === module) {
  const addon = require(path.resolve(__dirname, '../../build/Release/fn_vmm.node'));
  const elf = process.env.FN_PROBE_GUEST_ELF || path.resolve(__dirname, '../../build/native-test/probe_guest.elf');
  run(addon, elf).then((failed) => {
    process.exitCode = failed ? 1 : 0;
  });
}
