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
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', `${prelude}
    let vm = new addon.NativeMicroVm({ memoryBytes: 64 << 20, guestElf: elf });
    vm.exchange(req(0, null), () => { vm = null; setImmediate(() => { global.gc(); console.log('gc done'); }); });`],
    { env: { ...process.env, ADDON: addonPath, ELF: probeElf }, encoding: 'utf8', timeout: 20000 });
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

(async () => {
  let failed = await h.run();
  failed += await require('./kvm_scenarios.cjs').run(addon, probeElf, { fake: true });
  process.exitCode = failed ? 1 : 0;
})();
