// kvm_scenarios.cjs — runs real guests on a host with a usable /dev/kvm: the scenario guest
// (guests/probe_guest.S, one scenario per input letter) through every exit path, the exchange rules
// (busy, dead, closed, bad_input), and the real fn-guest.elf booting to READY if it has been built.
// Called by addon_smoke.cjs when probe().ok; runnable alone: node native/test/kvm_scenarios.cjs
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
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
  h.test('a spinning guest times out and the VM is dead', () => scenario('s', 'timeout', 200));
  h.test('a stray syscall lands on the stub', async () => {
    const e = await scenario('c', 'syscall');
    assert(e.syscallNumber === 39, `syscallNumber ${e.syscallNumber}`);
    assert(e.rip >= 0x401000n && e.rip < 0x402000n, `rip 0x${e.rip.toString(16)}`);
  });
  h.test('NULL read faults with CR2 0', async () => {
    const e = await scenario('n', 'guest_fault');
    assert(e.cr2 === 0n, `cr2 0x${e.cr2.toString(16)}`);
  });
  cpu('a port outside the I/O bitmap faults', () => scenario('p', 'guest_fault'));
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
  cpu('hlt at CPL3 faults', () => scenario('H', 'guest_fault'));
  cpu('executing the stack faults (NX)', () => scenario('X', 'guest_fault'));
  cpu('writing the boot info page faults (user read-only)', async () => {
    const e = await scenario('b', 'guest_fault');
    assert(e.cr2 === 0x6000n, `cr2 0x${e.cr2.toString(16)}`);
  });
  cpu('reading the GDT faults (supervisor only)', async () => {
    const e = await scenario('g', 'guest_fault');
    assert(e.cr2 === 0x1000n, `cr2 0x${e.cr2.toString(16)}`);
  });
  // The stack guard page (fn_abi.h FN_STACK_GUARD_SIZE): not mapped, between the heap and the stack.
  // fake_kvm.so walks the page tables the addon wrote, so these run there too.
  const STACK = 1 * MiB;
  const GUARD = 4096;
  for (const mib of [8, 18, 64]) {
    const guard = BigInt(mib * MiB - STACK - GUARD);
    h.test(`${mib} MiB: writing the stack guard page faults with CR2 = the guard, its neighbours do not`, async () => {
      const e = await scenario('G', 'guest_fault', 5000, mib * MiB);
      assert(e.cr2 === guard, `cr2 0x${e.cr2.toString(16)}, guard 0x${guard.toString(16)}`);
    });
  }
  h.test('a stack overflow faults in the guard page instead of writing the heap', async () => {
    const e = await scenario('O', 'guest_fault');
    const guard = BigInt(64 * MiB - STACK - GUARD);
    assert(e.cr2 >= guard && e.cr2 < guard + BigInt(GUARD), `cr2 0x${e.cr2.toString(16)}, guard 0x${guard.toString(16)}`);
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
  return h.run();
}

module.exports = { run };

if (require.main === module) {
  const addon = require(path.resolve(__dirname, '../../build/Release/fn_vmm.node'));
  const elf = process.env.FN_PROBE_GUEST_ELF || path.resolve(__dirname, '../../build/native-test/probe_guest.elf');
  run(addon, elf).then((failed) => {
    process.exitCode = failed ? 1 : 0;
  });
}
