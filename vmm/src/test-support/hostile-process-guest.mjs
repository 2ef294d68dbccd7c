#!/usr/bin/env node
// A deliberately hostile "guest" for the process sandbox transport. It speaks just enough of the
// frame protocol (fn_abi.h) to get the host's attention, then lies. The scenario comes from
// FN_HOSTILE_SCENARIO. Used only by hostile-guest.test.ts.
import { randomBytes } from 'node:crypto';

const HEADER = 128;
const OFF = { status: 64, outputLen: 68 };
const scenario = process.env.FN_HOSTILE_SCENARIO ?? 'random';

function frame(event, { status = 0, outputLen, output = Buffer.alloc(0) } = {}) {
  const b = Buffer.alloc(4 + HEADER);
  b.writeUInt32LE(event, 0);
  b.writeUInt32LE(status >>> 0, 4 + OFF.status);
  b.writeUInt32LE((outputLen ?? output.length) >>> 0, 4 + OFF.outputLen);
  return Buffer.concat([b, output]);
}

function meta(obj, body = Buffer.alloc(0)) {
  const m = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(m.length);
  return Buffer.concat([len, m, body]);
}

const ok = Buffer.from('{"ok":true}');
const invokeReplies = {
  'huge-output-len': () => frame(2, { outputLen: 0xffffffff }),
  'meta-past-end': () => {
    const out = Buffer.alloc(16);
    out.writeUInt32LE(1_000_000, 0);
    return frame(2, { output: out });
  },
  'meta-not-json': () => frame(2, { output: meta('{"status": 200, "headers": [') }),
  'meta-bad-status': () => frame(2, { output: meta({ status: 99999, headers: [], logs: [] }) }),
  'meta-bad-headers': () => frame(2, { output: meta({ status: 200, headers: 'nope', logs: [] }) }),
  'bad-event': () => frame(99, { output: meta({ status: 200, headers: [], logs: [] }) }),
  'bad-status-code': () => frame(2, { status: 0xdeadbeef, output: meta({ status: 200, headers: [], logs: [] }) }),
  'partial-then-exit': () => {
    process.stdout.write(frame(2, { output: meta({ status: 200, headers: [], logs: [] }) }).subarray(0, 50), () => process.exit(0));
    return null;
  },
  silent: () => null,
};

if (scenario === 'random') {
  process.stdout.write(randomBytes(1 << 16));
  setTimeout(() => {}, 60_000);
} else {
  process.stdout.write(frame(1));
  let commands = 0;
  process.stdin.on('data', () => {
    commands += 1;
    // The first command is the LOAD; every later one is answered with the scenario's lie.
    if (commands === 1) {
      process.stdout.write(frame(2, { output: ok }));
      return;
    }
    const reply = invokeReplies[scenario]();
    if (reply) process.stdout.write(reply);
  });
}
