// fake_kvm_smoke.cjs — the real addon end to end against fake_kvm.so (LD_PRELOAD), on machines
// without /dev/kvm: VM creation through every setup ioctl, the vCPU thread, watchdog signals,
// ThreadSafeFunction delivery, close, finalizers and process lifetime.
// Run (from vmm/): LD_PRELOAD=$PWD/build/native-test/fake_kvm.so node --expose-gc native/test/fake_kvm_smoke.cjs
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { createHarness, assert } = require('./harness.cjs');

const vmmDir = path.resolve(__dirname, '../..');
const addonPath = path.join(vmmDir, 'build/Release/fn_vmm.node');
const addon = require(addonPath);
const probeElf = process.env.FN_PROBE_GUEST_ELF || path.join(vmmDir, 'build/native-test/probe_guest.elf');

if (!/fake_kvm\.so/.test(process.env.LD_PRELOAD || '')) {
  console.error('fake_kvm_smoke.cjs must run with LD_PRELOAD=.../fake_kvm.so');
  process.exit(2);
}

function child(script) {
  return spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, ADDON: addonPath, ELF: probeElf },
    encoding: 'utf8',
    timeout: 20000,
  });
}
const prelude = `
  const addon = require(process.env.ADDON);
  const elf = require('fs').readFileSync(process.env.ELF);
  const req = (command, input, timeoutMs = 5000) => ({ command, input: input && Buffer.from(input),
    nowUnixNs: 1n, entropy: Buffer.alloc(32), timeoutMs });
`;

const h = createHarness('fake-kvm-lifecycle');
h.test('probe() reports the fake KVM as usable', () => {
  const p = addon.probe();
  assert(p.ok === true && p.apiVersion === 12, JSON.stringify(p));
});
h.test('an idle VM does not keep the process alive', () => {
  const r = child(`${prelude}
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    vm.exchange(req(0, null), (err, res) => { console.log('ready', res && res.event); });`);
  assert(r.status === 0 && /ready 1/.test(r.stdout), `status ${r.status} signal ${r.signal} ${r.stdout} ${r.stderr}`);
});
h.test('a running exchange keeps the process alive until its callback', () => {
  const r = child(`${prelude}
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    vm.exchange(req(0, null), () => {
      vm.exchange(req(2, 's', 300), (err) => { console.log('ended', err && err.kind); });
    });`);
  assert(r.status === 0 && /ended timeout/.test(r.stdout), `status ${r.status} ${r.stdout} ${r.stderr}`);
});
h.test('a VM dropped without close() is finalized by GC', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-e',
      `${prelude}
    let vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    vm.exchange(req(0, null), () => { vm = null; setImmediate(() => { global.gc(); console.log('gc done'); }); });`,
    ],
    { env: { ...process.env, ADDON: addonPath, ELF: probeElf }, encoding: 'utf8', timeout: 20000 },
  );
  assert(r.status === 0 && /gc done/.test(r.stdout), `status ${r.status} ${r.stdout} ${r.stderr}`);
});
h.test('process exit with a guest still spinning does not hang', () => {
  const r = child(`${prelude}
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    vm.exchange(req(0, null), () => {
      vm.exchange(req(2, 's', 600000), () => {});
      setTimeout(() => process.exit(0), 50);
    });`);
  assert(r.status === 0, `status ${r.status} signal ${r.signal} ${r.stderr}`);
});
h.test('a worker thread that ends with a VM running tears it down', () => {
  const r = child(`${prelude}
    const { Worker } = require('worker_threads');
    const w = new Worker(\`
      const addon = require(process.env.ADDON);
      const elf = require('fs').readFileSync(process.env.ELF);
      const req = (command, input, timeoutMs) => ({ command, input: input && Buffer.from(input), nowUnixNs: 1n, entropy: Buffer.alloc(32), timeoutMs });
      const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
      vm.exchange(req(0, null, 5000), () => { vm.exchange(req(2, 's', 600000), () => {}); require('worker_threads').parentPort.postMessage('spinning'); });
    \`, { eval: true });
    w.on('message', () => w.terminate().then(() => console.log('terminated')));`);
  assert(r.status === 0 && /terminated/.test(r.stdout), `status ${r.status} ${r.stdout} ${r.stderr}`);
});
h.test('a throwing callback surfaces as an uncaught exception, not a crash', () => {
  const r = child(`${prelude}
    process.on('uncaughtException', (e) => { console.log('caught', e.message); process.exit(0); });
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    vm.exchange(req(0, null), () => { throw new Error('boom from callback'); });`);
  assert(r.status === 0 && /caught boom from callback/.test(r.stdout), `status ${r.status} ${r.stdout} ${r.stderr}`);
});

// Snapshot paths that depend on what KVM offers, each in a child with fake_kvm.so's knobs set.
const os = require('node:os');
const snapPrelude = `${prelude}
  const ex = (vm, r) => new Promise((a, b) => vm.exchange(r, (e, x) => (e ? b(e) : a(x))));
  const snap = (vm, o) => new Promise((a, b) => vm.snapshot(o, (e, x) => (e ? b(e) : a(x))));
  const reset = (vm) => new Promise((a, b) => vm.reset((e, x) => (e ? b(e) : a(x))));
  const restore = (o) => new Promise((a, b) => addon.NativeMicroVm.restore(o, (e, v) => (e ? b(e) : a(v))));
  const count = async (vm) => { const o = (await ex(vm, req(2, 'i'))).output; return o.readBigUInt64LE(0) + ',' + o.readBigUInt64LE(8); };
  const mxcsr = async (vm) => (await ex(vm, req(2, 'M'))).output.readUInt32LE(0).toString(16);
  const tls = async (vm) => (await ex(vm, req(2, 'S'))).output.readBigUInt64LE(0).toString(16);
`;
function childWith(env, script) {
  return spawnSync(process.execPath, ['-e', `${snapPrelude}${script}`], {
    env: { ...process.env, ADDON: addonPath, ELF: probeElf, ...env },
    encoding: 'utf8',
    timeout: 20000,
  });
}
const snapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fn-fake-snap-'));
const fullCycle = `
  (async () => {
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(vm, req(0, null));
    await snap(vm, { dir: process.env.DIR });
    const s = vm.stats();
    const a = [await count(vm), await mxcsr(vm), await mxcsr(vm)];
    await ex(vm, req(2, 'F'));
    const r = await reset(vm);
    const b = [await count(vm), await mxcsr(vm), await tls(vm)];
    vm.close();
    const v2 = await restore({ memoryBytes: 64 << 20, dir: process.env.DIR });
    const c = [await count(v2), await mxcsr(v2)];
    await reset(v2);
    c.push(await count(v2));
    v2.close();
    console.log(JSON.stringify({ syncRegs: s.syncRegs, xsaveBytes: s.xsaveBytes, a, b, c, sregsSet: r.sregsSet }));
  })().catch((e) => { console.log('ERR', e.kind, e.code, e.message); process.exit(1); });`;
function expectCycle(r, syncRegs, xsaveBytes) {
  assert(r.status === 0, `status ${r.status} ${r.stdout} ${r.stderr}`);
  const got = JSON.parse(r.stdout.trim().split('\n').pop());
  const want = { syncRegs, xsaveBytes, a: ['1,1', '1f80', '7f80'], b: ['1,1', '1f80', '5a17'], c: ['1,1', '1f80', '1,1'], sregsSet: true };
  assert(JSON.stringify(got) === JSON.stringify(want), `${JSON.stringify(got)} !== ${JSON.stringify(want)}`);
}
h.test('snapshot, reset, restore with every capability (sync_regs, XSAVE)', () => {
  expectCycle(childWith({ DIR: path.join(snapDir, 'all') }, fullCycle), true, 4096);
});
h.test('the same without KVM_CAP_SYNC_REGS: registers reset through ioctls', () => {
  expectCycle(childWith({ DIR: path.join(snapDir, 'nosync'), FAKE_KVM_NO_SYNC_REGS: '1' }, fullCycle), false, 4096);
});
h.test('the same without XSAVE: FPU state through KVM_GET/SET_FPU', () => {
  expectCycle(childWith({ DIR: path.join(snapDir, 'nox'), FAKE_KVM_NO_XSAVE: '1', FAKE_KVM_NO_SYNC_REGS: '1' }, fullCycle), false, 0);
});
h.test('a snapshot taken with XSAVE restores where KVM has only KVM_SET_FPU, and the other way round', () => {
  const withX = path.join(snapDir, 'withx');
  const noX = path.join(snapDir, 'nox2');
  const take = `(async () => { const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf }); await ex(vm, req(0, null));
    await mxcsr(vm); await snap(vm, { dir: process.env.DIR }); vm.close(); })().catch((e) => { console.log('ERR', e.message); process.exit(1); });`;
  const back = `(async () => { const v = await restore({ memoryBytes: 64 << 20, dir: process.env.DIR }); console.log('mxcsr', await mxcsr(v), await count(v)); v.close(); })()
    .catch((e) => { console.log('ERR', e.code, e.message); process.exit(1); });`;
  for (const [dir, takeEnv, backEnv] of [
    [withX, {}, { FAKE_KVM_NO_XSAVE: '1' }],
    [noX, { FAKE_KVM_NO_XSAVE: '1' }, {}],
  ]) {
    let r = childWith({ DIR: dir, ...takeEnv }, take);
    assert(r.status === 0, `take: ${r.stdout} ${r.stderr}`);
    r = childWith({ DIR: dir, ...backEnv }, back);
    assert(r.status === 0 && /mxcsr 7f80 1,1/.test(r.stdout), `restore: ${r.stdout} ${r.stderr}`);
  }
});
h.test('restore reports an optional MSR KVM refused (IA32_TSC) and carries on', () => {
  const dir = path.join(snapDir, 'msr');
  let r = childWith(
    { DIR: dir },
    `(async () => { const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(vm, req(0, null)); await snap(vm, { dir: process.env.DIR }); vm.close(); })();`,
  );
  assert(r.status === 0, r.stderr);
  r = childWith(
    { DIR: dir, FAKE_KVM_REFUSE_MSR: '10' },
    `(async () => { const v = await restore({ memoryBytes: 64 << 20, dir: process.env.DIR });
    console.log(JSON.stringify(v.stats().restore.msrsRefused), await count(v)); v.close(); })().catch((e) => { console.log('ERR', e.message); process.exit(1); });`,
  );
  assert(r.status === 0 && /\[16\] 1,1/.test(r.stdout), `${r.stdout} ${r.stderr}`);
  r = childWith(
    { DIR: dir, FAKE_KVM_REFUSE_MSR: 'c0000082' },
    `restore({ memoryBytes: 64 << 20, dir: process.env.DIR })
    .then(() => console.log('restored'), (e) => console.log('refused', e.code, e.ioctl));`,
  );
  assert(/refused KVM_ERROR KVM_SET_MSRS/.test(r.stdout), `a required MSR refused: ${r.stdout} ${r.stderr}`);
});
h.test('restore on a host whose CPU lacks a feature the snapshot recorded is refused', () => {
  const dir = path.join(snapDir, 'cpuid');
  let r = childWith(
    { DIR: dir },
    `(async () => { const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(vm, req(0, null)); await snap(vm, { dir: process.env.DIR }); vm.close(); })();`,
  );
  assert(r.status === 0, r.stderr);
  r = childWith(
    { DIR: dir, FAKE_KVM_CPUID_1_ECX: '0' },
    `restore({ memoryBytes: 64 << 20, dir: process.env.DIR })
    .then(() => console.log('restored'), (e) => console.log('refused', e.code, e.reason, e.message));`,
  );
  assert(/refused SNAPSHOT_ERROR cpu_features .*CPUID\.1:ECX bits 0x40000000/.test(r.stdout), `${r.stdout} ${r.stderr}`);
  r = childWith(
    { DIR: dir, FAKE_KVM_CPUID_1_ECX: 'c0000000' },
    `restore({ memoryBytes: 64 << 20, dir: process.env.DIR })
    .then((v) => { console.log('restored'); v.close(); }, (e) => console.log('refused', e.message));`,
  );
  assert(/restored/.test(r.stdout), `a host with more features is fine: ${r.stdout} ${r.stderr}`);
});
// FN_KVM_NESTED_TR_AVAILABLE (nested_quirks.h) against a fake that checks TR the way each machine does.
h.test('nested machine quirk: without the switch every CPL3 out is a #GP there', () => {
  const r = childWith(
    { FAKE_KVM_QEMU_TR_CHECK: '1', FN_KVM_NESTED_TR_AVAILABLE: '' },
    `(async () => {
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(vm, req(0, null)).then(() => console.log('ready'), (e) => console.log('fault', e.kind, e.vector, e.exception));
    vm.close(); })();`,
  );
  assert(r.status === 0 && /fault guest_fault 13 #GP/.test(r.stdout), `${r.stdout} ${r.stderr}`);
});
h.test('nested machine quirk: with the switch, boot, snapshot, reset (sregs set) and restore all load TR type 9', () => {
  expectCycle(childWith({ DIR: path.join(snapDir, 'nested'), FN_KVM_NESTED_TR_AVAILABLE: '1' }, fullCycle), true, 4096);
  expectCycle(childWith({ DIR: path.join(snapDir, 'nested-nosync'), FN_KVM_NESTED_TR_AVAILABLE: '1', FAKE_KVM_NO_SYNC_REGS: '1' }, fullCycle), false, 4096);
});
h.test('nested machine quirk: the switch is wrong anywhere else (VM entry wants a busy TSS, as on Intel)', () => {
  const r = childWith(
    { FAKE_KVM_QEMU_TR_CHECK: '0', FN_KVM_NESTED_TR_AVAILABLE: '1' },
    `(async () => {
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(vm, req(0, null)).then(() => console.log('ready'), (e) => console.log('refused', e.kind, e.reason));
    vm.close(); })();`,
  );
  assert(r.status === 0 && /refused fail_entry/.test(r.stdout), `${r.stdout} ${r.stderr}`);
});
h.test('Bochs quirk: FN_KVM_NESTED_GUEST_IF=1 runs the guest with IF=1 (boot, reset, restore); snapshots still record IF=0', () => {
  const dir = path.join(snapDir, 'guest-if');
  const script = `(async () => {
    const fault = (vm) => ex(vm, req(2, 'n')).then(() => 'no fault', (e) => (e.rflags & 0x200n) ? 'IF=1' : 'IF=0');
    const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(vm, req(0, null));
    await snap(vm, { dir: process.env.DIR });
    await reset(vm);
    const afterReset = await fault(vm);
    vm.close();
    const r = await restore({ memoryBytes: 64 << 20, dir: process.env.DIR });
    const afterRestore = await fault(r);
    r.close();
    const fresh = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(fresh, req(0, null));
    const afterBoot = await fault(fresh);
    fresh.close();
    const cpu = require('fs').readFileSync(require('path').join(process.env.DIR, 'cpu.bin'));
    const recorded = (cpu.readBigUInt64LE(64 + 136) & 0x200n) ? 'IF=1' : 'IF=0';  // REGS section: kvm_regs.rflags
    console.log(afterBoot, afterReset, afterRestore, 'recorded', recorded);
  })().catch((e) => { console.log('ERR', e.kind, e.message); process.exit(1); });`;
  let r = childWith({ DIR: dir, FN_KVM_NESTED_GUEST_IF: '1' }, script);
  assert(r.status === 0 && /IF=1 IF=1 IF=1 recorded IF=0/.test(r.stdout), `${r.stdout} ${r.stderr}`);
  r = childWith({ DIR: `${dir}-off`, FN_KVM_NESTED_GUEST_IF: '' }, script);
  assert(r.status === 0 && /IF=0 IF=0 IF=0 recorded IF=0/.test(r.stdout), `${r.stdout} ${r.stderr}`);
});
h.test('a restored VM dropped without close() is finalized; process exit during a restore does not hang', () => {
  const dir = path.join(snapDir, 'gc');
  let r = childWith(
    { DIR: dir },
    `(async () => { const vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    await ex(vm, req(0, null)); await snap(vm, { dir: process.env.DIR }); vm.close(); })();`,
  );
  assert(r.status === 0, r.stderr);
  r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-e',
      `${snapPrelude}
    (async () => { let v = await restore({ memoryBytes: 64 << 20, dir: process.env.DIR }); await count(v); v = null;
      setImmediate(() => { global.gc(); console.log('gc done'); }); })();`,
    ],
    { env: { ...process.env, ADDON: addonPath, ELF: probeElf, DIR: dir }, encoding: 'utf8', timeout: 20000 },
  );
  assert(r.status === 0 && /gc done/.test(r.stdout), `${r.status} ${r.stdout} ${r.stderr}`);
  r = childWith({ DIR: dir }, `restore({ memoryBytes: 64 << 20, dir: process.env.DIR }).then((v) => v.close()); process.exit(0);`);
  assert(r.status === 0, `${r.status} ${r.signal} ${r.stderr}`);
});

(async () => {
  let failed = await h.run();
  fs.rmSync(snapDir, { recursive: true, force: true });
  failed += await require('./kvm_scenarios.cjs').run(addon, probeElf, { fake: true });
  process.exitCode = failed ? 1 : 0;
})();
