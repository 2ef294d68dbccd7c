// addon_smoke.cjs — checks the N-API surface of build/Release/fn_vmm.node as built. Everything here
// runs without /dev/kvm; when probe() says KVM is usable, kvm_scenarios.cjs runs real guests too.
// Run: node native/test/addon_smoke.cjs (from vmm/), or through native/test/run.sh.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createHarness, assert, throwsSync } = require('./harness.cjs');

const vmmDir = path.resolve(__dirname, '../..');
const addon = require(path.join(vmmDir, 'build/Release/fn_vmm.node'));
const probeElfPath = process.env.FN_PROBE_GUEST_ELF || path.join(vmmDir, 'build/native-test/probe_guest.elf');
const h = createHarness('addon');
const MiB = 1024 * 1024;

h.test('exports exactly probe, lockDownHost, lockdownProbe and NativeMicroVm', () => {
  assert(JSON.stringify(Object.keys(addon).sort()) === '["NativeMicroVm","lockDownHost","lockdownProbe","probe"]', Object.keys(addon).join());
  // Bad arguments are refused before anything is locked (this process must stay unlocked).
  for (const bad of [undefined, { dataLimitBytes: -1 }, { dataLimitBytes: 1.5 }, { dataLimitBytes: '1' }]) {
    let code;
    try {
      addon.lockDownHost(bad);
    } catch (e) {
      code = e.code;
    }
    assert(code === 'BAD_OPTIONS', `lockDownHost(${JSON.stringify(bad)}): ${code}`);
  }
  let probeCode;
  try {
    addon.lockdownProbe('no-such-probe', '');
  } catch (e) {
    probeCode = e.code;
  }
  assert(probeCode === 'BAD_OPTIONS', `lockdownProbe of an unknown probe: ${probeCode}`);
  assert(typeof addon.probe === 'function', 'probe');
  const proto = addon.NativeMicroVm.prototype;
  for (const m of ['exchange', 'snapshot', 'reset', 'close', 'stats']) assert(typeof proto[m] === 'function', m);
  assert(typeof addon.NativeMicroVm.restore === 'function', 'static restore');
});

h.test('probe() never throws and describes the result', () => {
  const p = addon.probe();
  assert(typeof p.ok === 'boolean', 'ok is boolean');
  if (p.ok) {
    assert(p.apiVersion === 12, `apiVersion ${p.apiVersion}`);
  } else {
    assert(typeof p.code === 'string' && p.code.length > 0, 'code');
    assert(typeof p.message === 'string' && p.message.length > 0, 'message');
    if (!fs.existsSync('/dev/kvm')) assert(p.code === 'ENOENT', `code ${p.code}`);
  }
});

h.test('constructor rejects bad options with code BAD_OPTIONS', () => {
  const elf = Buffer.alloc(64);
  const cases = [
    [],
    [null],
    [{ guestElf: elf }],
    [{ memoryBytes: '64', guestElf: elf }],
    [{ memoryBytes: NaN, guestElf: elf }],
    [{ memoryBytes: -1, guestElf: elf }],
    [{ memoryBytes: 64.5 * MiB, guestElf: elf }],
    [{ memoryBytes: 4 * MiB, guestElf: elf }],
    [{ memoryBytes: 64 * MiB + 4096, guestElf: elf }],
    [{ memoryBytes: 4096 * MiB, guestElf: elf }],
    [{ memoryBytes: 64 * MiB }],
    [{ memoryBytes: 64 * MiB, guestElf: 'elf' }],
  ];
  for (const args of cases) {
    const e = throwsSync(() => new addon.NativeMicroVm(...args), JSON.stringify(args));
    assert(e.code === 'BAD_OPTIONS', `${JSON.stringify(args)} gave ${e.code}: ${e.message}`);
  }
});

h.test('constructor rejects a bad ELF with code BAD_ELF before touching /dev/kvm', () => {
  const bad = [Buffer.alloc(0), Buffer.from('not an elf at all, not at all, not at all, not at all, no!!!!')];
  for (const guestElf of bad) {
    const e = throwsSync(() => new addon.NativeMicroVm({ memoryBytes: 64 * MiB, guestElf }), 'bad elf');
    assert(e.code === 'BAD_ELF', `${e.code}: ${e.message}`);
    assert(/guest ELF/.test(e.message), e.message);
  }
  if (fs.existsSync(probeElfPath)) {
    // A 32-bit class byte.
    const elf = Buffer.from(fs.readFileSync(probeElfPath));
    elf[4] = 1;
    const e = throwsSync(() => new addon.NativeMicroVm({ memoryBytes: 64 * MiB, guestElf: elf }), 'class');
    assert(e.code === 'BAD_ELF' && /EI_CLASS/.test(e.message), e.message);
  }
});

h.test('constructor with a valid ELF and no KVM throws KVM_UNAVAILABLE', () => {
  const p = addon.probe();
  if (p.ok) return; // covered by kvm_scenarios.cjs
  if (!fs.existsSync(probeElfPath)) throw new Error(`${probeElfPath} missing: run native/test/run.sh`);
  const e = throwsSync(() => new addon.NativeMicroVm({ memoryBytes: 64 * MiB, guestElf: fs.readFileSync(probeElfPath) }), 'no kvm');
  assert(e.code === 'KVM_UNAVAILABLE', `${e.code}: ${e.message}`);
  assert(e.reason === p.code, `reason ${e.reason} vs probe ${p.code}`);
});

(async () => {
  let failed = await h.run();
  if (addon.probe().ok && process.env.FN_SKIP_KVM_SCENARIOS === '1') {
    console.log('kvm scenarios not run here (FN_SKIP_KVM_SCENARIOS=1): vmm/src/kvm-scenarios.test.ts runs them');
  } else if (addon.probe().ok) {
    failed += await require('./kvm_scenarios.cjs').run(addon, probeElfPath);
  } else {
    console.log('kvm scenarios skipped: /dev/kvm is not usable here (probe: ' + addon.probe().code + ')');
  }
  process.exitCode = failed ? 1 : 0;
})();
