#!/usr/bin/env node
// smoke-process.mjs — proves fn-guest-process end to end over its pipes, with no other host:
// boot → READY, LOAD, INVOKE (and 200 more under seccomp strict mode: any stray syscall would
// SIGKILL the guest), timers through SLEEP, error paths, out-of-memory, and a function that never
// returns (it must just keep running until the host kills it).
//
//   node guest/scripts/smoke-process.mjs [--verbose] [--kvm-elf]
//
// --kvm-elf runs the same checks against the KVM guest (fn-guest.elf) under vmm/build/ptrace-vmm,
// which executes it at CPL3 without KVM and treats any syscall the guest makes as a panic.
//
// Prints one line per check and a closing "N passed, N failed"; exits 1 if any check failed.

import { existsSync } from 'node:fs';
import { guestElfPath, guestProcessPath } from '../index.js';
import { COMMAND, EVENT, ProcessGuest, STATUS, STATUS_NAME, decodeInvokeOutput, encodeWithMeta, ptraceVmmPath } from './lib/process-guest.mjs';
import { checks } from './lib/checks.mjs';

const verbose = process.argv.includes('--verbose');
const underPtrace = process.argv.includes('--kvm-elf');
const ptraceVmm = ptraceVmmPath;
const executable = underPtrace ? ptraceVmm : guestProcessPath;
const prefixArgs = underPtrace ? [guestElfPath] : [];
const { check, finish } = checks('smoke');

const ms = (ns) => `${(Number(ns) / 1e6).toFixed(2)} ms`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function boot(memoryMiB = 64) {
  const guest = new ProcessGuest(executable, { memoryMiB, prefixArgs });
  const ready = await guest.nextFrame();
  const bootNs = process.hrtime.bigint() - guest.spawnedAt;
  if (!ready || ready.event !== EVENT.READY) throw new Error(`no READY frame: ${JSON.stringify(ready?.header)} ${ready?.output}`);
  return { guest, bootNs, ready };
}

async function load(guest, source, meta = { name: 'smoke', env: { GREETING: 'hi' }, memoryMiB: 64 }) {
  const frame = await guest.request(COMMAND.LOAD, encodeWithMeta(meta, Buffer.from(source)));
  return { frame, json: frame && frame.event === EVENT.DONE ? JSON.parse(frame.output.toString()) : null };
}

async function invoke(guest, request = {}, body = '', options) {
  const meta = { method: 'GET', url: 'https://fn.local/x', headers: [], invocationId: 'i', deadlineMs: Date.now() + 10000, ...request };
  const t0 = process.hrtime.bigint();
  const frame = await guest.request(COMMAND.INVOKE, encodeWithMeta(meta, Buffer.from(body)), options);
  const rtt = process.hrtime.bigint() - t0;
  if (!frame) return { frame, rtt };
  if (frame.event !== EVENT.DONE) return { frame, rtt };
  const out = frame.header.status === STATUS.OK ? decodeInvokeOutput(frame.output) : { meta: JSON.parse(frame.output.toString()), body: Buffer.alloc(0) };
  if (verbose) console.log('   ', STATUS_NAME[frame.header.status], JSON.stringify(out.meta), JSON.stringify(out.body.toString()));
  return { frame, rtt, ...out, text: out.body.toString() };
}

const HELLO = 'export default { fetch(req) { return new Response("hi " + req.method) } }';

async function helloWorld() {
  const { guest, bootNs, ready } = await boot();
  check('boot → READY', true, `${ms(bootNs)} from spawn (guest reports ${ms(ready.header.guestNs)} of runtime init), heap ${ready.header.heapUsed} bytes`);
  const t0 = process.hrtime.bigint();
  const { frame, json } = await load(guest, HELLO);
  check(
    'LOAD hello module',
    frame.header.status === STATUS.OK && json.ok === true,
    `${ms(process.hrtime.bigint() - t0)} round trip, ${ms(frame.header.guestNs)} in the guest`,
  );
  const r = await invoke(guest, { method: 'POST' });
  check(
    'INVOKE → "hi POST"',
    r.frame.header.status === STATUS.OK && r.meta.status === 200 && r.text === 'hi POST',
    `meta ${JSON.stringify(r.meta)} body ${JSON.stringify(r.text)}`,
  );

  const rtts = [];
  const guestNs = [];
  let allOk = true;
  for (let i = 0; i < 200; i++) {
    const x = await invoke(guest, { method: i % 2 ? 'GET' : 'PUT' });
    allOk &&= x.frame?.header.status === STATUS.OK && x.text === (i % 2 ? 'hi GET' : 'hi PUT');
    rtts.push(Number(x.rtt));
    guestNs.push(x.frame.header.guestNs);
  }
  check(
    `200 INVOKEs ${underPtrace ? 'with every syscall trapped' : 'under seccomp strict mode'}`,
    allOk && !guest.exited,
    `round trip median ${ms(median(rtts))} (min ${ms(Math.min(...rtts))}), guest time median ${(median(guestNs) / 1000).toFixed(1)} µs, heap used ${r.frame.header.heapUsed} peak ${r.frame.header.heapPeak}`,
  );
  const again = await load(guest, HELLO);
  check('a second LOAD is refused', again.frame.header.status === STATUS.LOAD_ERROR, again.json?.error?.message);
  guest.child.stdin.end();
  await new Promise((r) => (guest.exited ? r() : guest.child.on('exit', r)));
  check('EOF on stdin → clean exit', guest.exited.code === 0, JSON.stringify(guest.exited));
}

async function runtimeBehaviour() {
  const { guest } = await boot();
  await load(
    guest,
    `
    export default { async fetch(req, env) {
      const url = new URL(req.url);
      const what = url.pathname.slice(1);
      if (what === 'random') return new Response(JSON.stringify({ r: Math.random(), g: Array.from(crypto.getRandomValues(new Uint8Array(8))), u: crypto.randomUUID() }));
      if (what === 'timer') { const t = Date.now(); await new Promise(r => setTimeout(r, 30)); return new Response(String(Date.now() - t)); }
      if (what === 'date') return new Response(JSON.stringify({ now: Date.now(), tz: new Date().getTimezoneOffset(), iso: new Date(0).toString() }));
      if (what === 'throw') throw new RangeError('nope');
      if (what === 'atomics') { const ia = new Int32Array(new SharedArrayBuffer(8)); return new Response(String(Atomics.wait(ia, 0, 0, 10))); }
      if (what === 'recurse') { const f = (n) => f(n + 1) + 1; return new Response(String(f(0))); }
      if (what === 'never') return new Promise(() => {});
      if (what === 'echo') return new Response(await req.arrayBuffer());
      if (what === 'text') return new Response(new TextDecoder().decode(new Uint8Array([0x68, 0xff, 0x69])) + new TextEncoder().encode("\\ud800").join(','));
      if (what === 'env') return new Response(env.GREETING);
      if (what === 'import') return new Response(String(await import('fs').then(() => 'loaded', (e) => e.message)));
      return new Response('?', { status: 404 });
    } }`,
  );
  const rnd = await Promise.all([0, 1].map(async () => JSON.parse((await invoke(guest, { url: 'https://fn.local/random' })).text)));
  check(
    'Math.random / getRandomValues / randomUUID differ across invocations',
    rnd[0].r !== rnd[1].r && rnd[0].g.join() !== rnd[1].g.join() && rnd[0].u !== rnd[1].u,
    JSON.stringify(rnd[0]),
  );
  const timer = await invoke(guest, { url: 'https://fn.local/timer' });
  check(
    'setTimeout(30) sleeps through FN_EVENT_SLEEP',
    timer.meta.status === 200 && Number(timer.text) >= 29 && Number(timer.text) < 200,
    `elapsed ${timer.text} ms by the guest clock, round trip ${ms(timer.rtt)}, guest_ns ${ms(timer.frame.header.guestNs)} (sleep excluded)`,
  );
  const date = JSON.parse((await invoke(guest, { url: 'https://fn.local/date' })).text);
  check('Date.now tracks the host clock, UTC', Math.abs(date.now - Date.now()) < 1000 && date.tz === 0, JSON.stringify(date));
  const thrown = await invoke(guest, { url: 'https://fn.local/throw' });
  check(
    'a throwing handler → 500 with the error',
    thrown.frame.header.status === STATUS.OK && thrown.meta.status === 500 && thrown.meta.error?.name === 'RangeError',
    JSON.stringify(thrown.meta.error?.message),
  );
  const atomics = await invoke(guest, { url: 'https://fn.local/atomics' });
  check('Atomics.wait fails cleanly', atomics.meta.status === 500 && /cannot block/.test(atomics.meta.error?.message), atomics.meta.error?.message);
  const deep = await invoke(guest, { url: 'https://fn.local/recurse' });
  check(
    'unbounded recursion → stack overflow error, VM survives',
    deep.meta.status === 500 && /stack/.test(deep.meta.error?.message),
    deep.meta.error?.message,
  );
  const never = await invoke(guest, { url: 'https://fn.local/never' });
  check('a promise that never settles → failure', never.meta.status === 500 && /never settled/.test(never.meta.error?.message), never.meta.error?.message);
  const big = Buffer.alloc(3 << 20, 7);
  const echo = await invoke(guest, { method: 'POST', url: 'https://fn.local/echo' }, big);
  check('3 MiB body echoed', echo.meta.status === 200 && Buffer.compare(echo.body, big) === 0, `${echo.body.length} bytes, round trip ${ms(echo.rtt)}`);
  const text = await invoke(guest, { url: 'https://fn.local/text' });
  check('TextDecoder/TextEncoder replace invalid input with U+FFFD', text.text === 'h\ufffdi239,191,189', JSON.stringify(text.text));
  const env = await invoke(guest, { url: 'https://fn.local/env' });
  check('env from the LOAD meta', env.text === 'hi', env.text);
  const imp = await invoke(guest, { url: 'https://fn.local/import' });
  check('import() of anything else fails clearly', /single bundled/.test(imp.text), imp.text);
  const badUtf8 = await guest.request(COMMAND.INVOKE, Buffer.from([1, 0, 0, 0, 0xff]));
  check('invoke meta that is not UTF-8 → BAD_INPUT', badUtf8.header.status === STATUS.BAD_INPUT, badUtf8.output.toString());
  const ok = await invoke(guest, { url: 'https://fn.local/env' });
  check('VM still serves after all of that', ok.text === 'hi');
  guest.kill();
}

async function errorPaths() {
  const { guest } = await boot();
  const early = await invoke(guest);
  check('INVOKE before LOAD → NOT_LOADED', early.frame.header.status === STATUS.NOT_LOADED, early.meta?.error?.message);
  const tooBig = await guest.request(COMMAND.INVOKE, Buffer.alloc(16), { headerFields: { magic: 0x12345678 } });
  check('bad magic → BAD_INPUT', tooBig.header.status === STATUS.BAD_INPUT, tooBig.output.toString());
  const oversized = await guest.request(COMMAND.INVOKE, Buffer.alloc(8 * 1024 * 1024 + 1));
  check(
    'input_len > FN_WINDOW_DATA_MAX → BAD_INPUT (input drained, stream stays in step)',
    oversized.header.status === STATUS.BAD_INPUT,
    oversized.output.toString(),
  );
  const badLen = Buffer.alloc(8);
  badLen.writeUInt32LE(1000, 0);
  const bad = await guest.request(COMMAND.LOAD, badLen);
  check('meta_len past the input → BAD_INPUT', bad.header.status === STATUS.BAD_INPUT, bad.output.toString());
  const badMeta = await guest.request(COMMAND.LOAD, encodeWithMeta('x', Buffer.from(HELLO)).fill(0x7b, 4, 5));
  check('load meta that is not JSON → BAD_INPUT', badMeta.header.status === STATUS.BAD_INPUT, badMeta.output.toString());
  const syntax = await load(guest, 'export default { fetch( }');
  check(
    'syntax error → LOAD_ERROR with the message',
    syntax.frame.header.status === STATUS.LOAD_ERROR && syntax.json.error.name === 'SyntaxError',
    JSON.stringify(syntax.json.error),
  );
  guest.kill();

  const second = await boot();
  const init = await load(second.guest, 'throw new TypeError("init failed at the top level"); export default {}');
  check(
    'init-time throw → LOAD_ERROR with message and stack',
    init.frame.header.status === STATUS.LOAD_ERROR && /init failed/.test(init.json.error.message) && /fn:function/.test(init.json.error.stack),
    JSON.stringify(init.json.error),
  );
  second.guest.kill();

  const third = await boot();
  const noHandler = await load(third.guest, 'export const x = 1;');
  check('module without a handler → LOAD_ERROR', noHandler.frame.header.status === STATUS.LOAD_ERROR, noHandler.json.error.message.slice(0, 80));
  third.guest.kill();
}

async function outOfMemory() {
  const { guest } = await boot(32);
  await load(
    guest,
    `
    export default { fetch(req) {
      if (req.url.endsWith('/small')) return new Response('fine');
      const hog = [];
      for (;;) hog.push(new Array(4096).fill(hog.length));
    } }`,
  );
  const r = await invoke(guest, { url: 'https://fn.local/hog' });
  const json = r.frame.header.status === STATUS.OUT_OF_MEMORY ? JSON.parse(r.frame.output.toString()) : null;
  check(
    'allocating until OOM → OUT_OF_MEMORY',
    json?.error?.name === 'OutOfMemoryError',
    `${JSON.stringify(json?.error?.message)}, heap peak ${r.frame.header.heapPeak}, used after ${r.frame.header.heapUsed}`,
  );
  const after = await invoke(guest, { url: 'https://fn.local/small' });
  check('the VM recovers after OOM', after.frame.header.status === STATUS.OK && after.text === 'fine', `heap used ${after.frame.header.heapUsed}`);
  guest.kill();
}

async function infiniteLoop() {
  const { guest } = await boot();
  await load(guest, 'export default { fetch() { while (true) {} } }');
  guest.send(COMMAND.INVOKE, encodeWithMeta({ method: 'GET', url: 'https://fn.local/', headers: [] }));
  const frame = await guest.nextFrame(1500);
  check('while(true) keeps running until the host kills it', frame === null && !guest.exited);
  guest.kill();
  await new Promise((r) => (guest.exited ? r() : guest.child.on('exit', r)));
  check('… and the host can kill it', guest.exited.signal === 'SIGKILL');
}

async function nativeStackOverflow() {
  // QuickJS 2021's JSON.stringify recurses in C without a depth check: a value nested 200000 deep
  // runs the C stack off its end. That must end the VM (PANIC, or the process dying), never leave
  // it running on a corrupted heap.
  const { guest } = await boot();
  await load(guest, 'export default { fetch() { let a = []; for (let i = 0; i < 200000; i++) a = [a]; return new Response(JSON.stringify(a)); } }');
  guest.send(COMMAND.INVOKE, encodeWithMeta({ method: 'GET', url: 'https://fn.local/', headers: [] }));
  let outcome;
  try {
    const frame = await guest.nextFrame(10000);
    outcome = frame ? `event ${frame.event}: ${frame.output.toString().slice(0, 120)}` : 'no answer';
  } catch (error) {
    outcome = error.message;
  }
  check('C stack overflow (deep JSON.stringify) ends the VM', /event 3|guest exited/.test(outcome), outcome);
  guest.kill();
}

for (const path of underPtrace ? [ptraceVmm, guestElfPath] : [guestProcessPath]) {
  if (!existsSync(path)) {
    console.error(`${path} is missing: run npm run build -w @fn/guest first`);
    process.exit(1);
  }
}
console.log(underPtrace ? `fn-guest.elf under ptrace-vmm (no KVM; any syscall is a failure)` : 'fn-guest-process');
for (const part of [helloWorld, runtimeBehaviour, errorPaths, outOfMemory, infiniteLoop, nativeStackOverflow]) {
  try {
    await part();
  } catch (error) {
    check(part.name, false, error.stack);
  }
}
finish();
