#!/usr/bin/env node
// inspect-elf.mjs — static checks of the KVM guest ELF (guest/build/fn-guest.elf), for machines
// where it cannot be run under KVM. Uses binutils (readelf, nm, objdump).
//
//   node guest/scripts/inspect-elf.mjs
//
// Checks: a static non-PIE x86-64 executable whose first segment is at FN_GUEST_LOAD_ADDR
// (0x400000), entry == _start, no PT_TLS / PT_INTERP / PT_DYNAMIC, no undefined symbols, musl's
// malloc not linked, no int $0x80 / sysenter, and `syscall` only inside the functions listed in
// EXPLAINED_SYSCALLS below, each with the reason it is unreachable. Prints a report; exits 1 if a
// check fails.

import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { guestElfPath } from '../index.js';
import { FORBIDDEN_MUSL_MEMBERS } from './lib/targets.mjs';

const LOAD_ADDR = 0x400000n;

// musl functions that contain a `syscall` instruction and are linked into the guest, with the
// argument why no normal path reaches them. A new entry here needs the same kind of argument.
const EXPLAINED_SYSCALLS = {
  __lockfile:
    'futex wait on FILE contention. Called only through FLOCK() when f->lock >= 0; the only FILEs the ' +
    'guest ever uses are the on-stack string FILEs of vsnprintf/snprintf/sprintf, created with lock = -1 ' +
    '(stdout/stderr are not linked: QuickJS stdio is renamed to no-ops). Even with lock >= 0 the futex ' +
    'is reached only if another thread holds the lock: there is one thread.',
  __unlockfile: 'futex wake, only when a waiter flagged the lock (see __lockfile): never, single-threaded.',
  attack:
    "the test-only __fnTestAttack('syscall') (src/test_attacks.c): a stray syscall on purpose, defined only " +
    'when the LOAD meta says testHooks, which the host sends only with FN_VMM_TEST_HOOKS=1 (tests, never the platform).',
};

const tool = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

const header = tool('readelf', ['-hW', guestElfPath]);
const entry = BigInt(/Entry point address:\s+(0x[0-9a-f]+)/.exec(header)[1]);
check(/Type:\s+EXEC/.test(header) && /Machine:\s+Advanced Micro Devices X86-64/.test(header), 'static non-PIE x86-64 executable (ET_EXEC)');

const segments = tool('readelf', ['-lW', guestElfPath])
  .split('\n')
  .map((l) => l.trim().split(/\s+/))
  .filter((f) => /^[A-Z_]+$/.test(f[0]) && /^0x/.test(f[1] ?? ''));
const loads = segments.filter((f) => f[0] === 'LOAD');
const firstLoad = BigInt(loads[0][2]);
const imageEnd = loads.reduce((end, f) => {
  const e = BigInt(f[2]) + BigInt(f[5]);
  return e > end ? e : end;
}, 0n);
check(firstLoad === LOAD_ADDR, `first PT_LOAD at 0x${firstLoad.toString(16)} (FN_GUEST_LOAD_ADDR 0x400000)`);
for (const bad of ['TLS', 'INTERP', 'DYNAMIC']) check(!segments.some((f) => f[0] === bad), `no PT_${bad} segment`);
for (const f of loads) console.log(`       LOAD vaddr ${f[2]} filesz ${f[4]} memsz ${f[5]} flags ${f.slice(6, -1).join('')}`);

const symbols = tool('nm', [guestElfPath]);
const start = BigInt(`0x${/^([0-9a-f]+) T _start$/m.exec(symbols)[1]}`);
check(entry === start, `entry 0x${entry.toString(16)} is _start`);
const undefinedSymbols = tool('nm', ['-u', guestElfPath]).trim();
check(undefinedSymbols === '', `no undefined symbols${undefinedSymbols ? `: ${undefinedSymbols.replace(/\s+/g, ' ')}` : ''}`);

const map = readFileSync(guestElfPath.replace(/\.elf$/, '.map'), 'utf8');
const members = [...new Set([...map.matchAll(/libc\.a\(([^)]+)\)/g)].map((m) => m[1]))].sort();
check(!FORBIDDEN_MUSL_MEMBERS.some((m) => members.includes(m)), "musl's malloc is not linked (the arena is the only allocator)");
check(!members.includes('stdout.lo') && !members.includes('stderr.lo'), 'musl stdout/stderr are not linked');

const disassembly = tool('objdump', ['-d', '--no-show-raw-insn', guestElfPath]);
let fn = '?';
const withSyscall = new Map();
let legacy = 0;
for (const line of disassembly.split('\n')) {
  const head = /^[0-9a-f]+ <(.+)>:$/.exec(line);
  if (head) fn = head[1];
  else if (/\tsyscall\s*$/.test(line)) withSyscall.set(fn, (withSyscall.get(fn) ?? 0) + 1);
  else if (/\t(int\s+\$0x80|sysenter)\b/.test(line)) legacy++;
}
check(legacy === 0, 'no int $0x80 / sysenter');
for (const [name, count] of withSyscall) {
  const why = EXPLAINED_SYSCALLS[name];
  check(Boolean(why), `\`syscall\` in ${name} (${count}x)${why ? `: unreachable — ${why}` : ': NOT EXPLAINED'}`);
}
console.log(`       musl members linked (${members.length}): ${members.join(' ')}`);
console.log(
  `       file ${statSync(guestElfPath).size} bytes; image 0x${firstLoad.toString(16)}..0x${imageEnd.toString(16)} (${Number(imageEnd - firstLoad)} bytes loaded)`,
);
console.log(`inspect-elf: ${failures === 0 ? 'all checks passed' : `${failures} check(s) failed`}`);
process.exit(failures ? 1 : 0);
