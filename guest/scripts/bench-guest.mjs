#!/usr/bin/env node
// bench-guest.mjs — how long the guest itself spends on an invocation (the window header's
// guest_ns: from taking the command to writing the reply, by the guest's own clock), for a few
// typical functions, over fn-guest-process. No dependencies.
//
//   node guest/scripts/bench-guest.mjs [--n 2000] [--case hello,echo,...] [--micro] [--cold K] [--json]
//                                      [--guest PATH] [--baseline PATH]
//
// Each case boots its own guest, warms it up, then runs n invocations one after another and prints
// the median, p90 and p99 of guest_ns (and the round trip over the pipes, for reference).
// --micro additionally runs single Web API operations in a loop inside the guest and prints what
// each costs there (performance.now() around the loop, so the dispatcher is not included).
// --cold K also measures the first invocation after LOAD, over K freshly booted guests: that is
// what every invocation of a VM restored from a post-LOAD snapshot looks like.
// --guest runs another build of fn-guest-process; --baseline PATH runs that build side by side
// with it, alternating invocations between the two, so that a busy machine slows both alike.

import { guestProcessPath } from '../index.js';
import { COMMAND, EVENT, ProcessGuest, STATUS, decodeInvokeOutput, encodeWithMeta } from './lib/process-guest.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const N = Number(option('n', '2000'));
const WARMUP = Math.min(200, N);
const asJson = args.includes('--json');
const executable = option('guest', guestProcessPath);
const baseline = option('baseline', null);

// What a gateway typically forwards: a browser-ish request behind a proxy.
const HEADERS = [
  ['host', 'fn.example.com'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'],
  ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['accept-encoding', 'gzip, deflate, br'],
  ['accept-language', 'en-GB,en;q=0.9'],
  ['x-forwarded-for', '203.0.113.7'],
  ['x-forwarded-proto', 'https'],
  ['x-request-id', '6f1c2f0e-3c7a-4f55-9d0b-2a8f4f1e9b11'],
];

const CASES = {
  hello: {
    source: `export default { fetch() { return new Response('Hello from fn!\\n') } }`,
    request: { method: 'GET', url: 'https://fn.example.com/', headers: HEADERS },
    body: '',
    expect: (out) => out.meta.status === 200 && out.body.toString() === 'Hello from fn!\n',
  },
  // Reads everything a typical JSON API handler reads: body text, query, a header, env; answers JSON.
  echo: {
    source: `export default { async fetch(request, env) {
      const text = await request.text();
      const url = new URL(request.url);
      const q = url.searchParams;
      return Response.json({ method: request.method, path: url.pathname, name: q.get('name'), page: Number(q.get('page')),
        length: text.length, type: request.headers.get('content-type'), env: env.GREETING });
    } }`,
    request: {
      method: 'POST',
      url: 'https://fn.example.com/api/v1/items?name=widget&page=2&sort=desc',
      headers: [...HEADERS, ['content-type', 'application/json'], ['content-length', '64']],
    },
    body: JSON.stringify({ id: 12345, name: 'widget', tags: ['a', 'b', 'c'], price: 9.99 }),
    expect: (out) => out.meta.status === 200 && JSON.parse(out.body.toString()).page === 2,
  },
  // A handler that logs and sets response headers: console and Headers on the hot path.
  logs: {
    source: `export default { fetch(request) {
      console.log('request', request.method, request.url);
      const h = new Headers({ 'content-type': 'text/plain', 'cache-control': 'no-store', 'x-powered-by': 'fn' });
      return new Response('ok', { status: 201, headers: h });
    } }`,
    request: { method: 'GET', url: 'https://fn.example.com/log?x=1', headers: HEADERS },
    body: '',
    expect: (out) => out.meta.status === 201 && out.meta.logs.length === 1,
  },
  lambda: {
    source: `export async function handler(event) { return { statusCode: 200, body: 'hi ' + event.rawPath } }`,
    request: { method: 'GET', url: 'https://fn.example.com/lambda?a=1', headers: HEADERS },
    body: '',
    expect: (out) => out.meta.status === 200 && out.body.toString() === 'hi /lambda',
  },
};

// Single operations timed inside the guest: [label, code run `loops` times with `i` in scope].
const MICRO = [
  ['empty loop', ''],
  ['new URL(url)', `new URL('https://fn.example.com/api/v1/items?name=widget&page=2')`],
  ['new URL(url).searchParams.get()', `new URL('https://fn.example.com/api/v1/items?name=widget&page=2').searchParams.get('page')`],
  ['new Headers(8 pairs)', `new Headers(pairs)`],
  ['headers.get()', `headers.get('accept')`],
  ['new Request(url)', `new Request('https://fn.example.com/api/v1/items?name=widget&page=2')`],
  ['new Response(string)', `new Response('Hello from fn!\\n')`],
  ['Response.json(obj)', `Response.json({ a: 1, b: 'two', c: [3] })`],
  ['console.log(str)', `console.log('hello', i)`],
  ['new TextEncoder().encode()', `new TextEncoder().encode('Hello from fn!')`],
];

function microSource(loops) {
  const cases = MICRO.map(
    ([label, code]) =>
      `  { const t0 = performance.now(); for (let i = 0; i < ${loops}; i++) { ${code}; } out.push([${JSON.stringify(label)}, (performance.now() - t0) * 1000 / ${loops}]); }`,
  );
  return `const pairs = ${JSON.stringify(HEADERS)};
export default { fetch() {
  const headers = new Headers(pairs);
  const out = [];
${cases.join('\n')}
  return Response.json(out);
} }`;
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), p99: at(0.99), min: s[0] };
}

const us = (ns) => (ns / 1000).toFixed(1);

async function startGuest(source, path = executable) {
  const guest = new ProcessGuest(path, { memoryMiB: 128 });
  const ready = await guest.nextFrame();
  if (!ready || ready.event !== EVENT.READY) throw new Error('the guest did not become READY');
  const meta = { name: 'bench', env: { GREETING: 'hi' }, memoryMiB: 128 };
  const loaded = await guest.request(COMMAND.LOAD, encodeWithMeta(meta, Buffer.from(source)));
  const json = JSON.parse(loaded.output.toString());
  if (loaded.header.status !== STATUS.OK || json.ok !== true) throw new Error(`LOAD failed: ${loaded.output}`);
  return guest;
}

async function invokeOnce(guest, request, body) {
  const meta = { invocationId: 'bench', deadlineMs: Date.now() + 10000, ...request };
  const input = encodeWithMeta(meta, Buffer.from(body));
  const t0 = process.hrtime.bigint();
  const frame = await guest.request(COMMAND.INVOKE, input);
  const rtt = Number(process.hrtime.bigint() - t0);
  if (!frame || frame.event !== EVENT.DONE || frame.header.status !== STATUS.OK) {
    throw new Error(`INVOKE failed: ${frame ? `${frame.event}/${frame.header.status} ${frame.output}` : 'timeout'}`);
  }
  return { out: decodeInvokeOutput(frame.output), guestNs: frame.header.guestNs, rtt, heapUsed: frame.header.heapUsed };
}

// One result per executable; with several, their invocations alternate.
async function runCase(name, c, paths) {
  const guests = [];
  try {
    for (const path of paths) guests.push(await startGuest(c.source, path));
    const samples = guests.map(() => ({ guestNs: [], rtts: [], heapUsed: 0 }));
    for (let i = 0; i < WARMUP; i++) for (const guest of guests) await invokeOnce(guest, c.request, c.body);
    for (const guest of guests) {
      const first = await invokeOnce(guest, c.request, c.body);
      if (!c.expect(first.out)) throw new Error(`${name}: unexpected answer ${JSON.stringify(first.out.meta)} ${first.out.body}`);
    }
    for (let i = 0; i < N; i++) {
      for (let g = 0; g < guests.length; g++) {
        const r = await invokeOnce(guests[g], c.request, c.body);
        samples[g].guestNs.push(r.guestNs);
        samples[g].rtts.push(r.rtt);
        samples[g].heapUsed = r.heapUsed;
      }
    }
    return samples.map((x, g) => ({ name, guestPath: paths[g], guest: stats(x.guestNs), rtt: stats(x.rtts), heapUsed: x.heapUsed }));
  } finally {
    for (const guest of guests) guest.kill();
  }
}

async function runMicro() {
  const guest = await startGuest(microSource(2000));
  try {
    const request = { method: 'GET', url: 'https://fn.example.com/', headers: HEADERS };
    await invokeOnce(guest, request, ''); // warm-up
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(JSON.parse((await invokeOnce(guest, request, '')).out.body.toString()));
    // The median of 5 runs per operation.
    return runs[0].map(([label], k) => [label, stats(runs.map((r) => r[k][1])).median]);
  } finally {
    guest.kill();
  }
}

const selected = option('case', Object.keys(CASES).join(',')).split(',');
const results = [];
for (const name of selected) {
  if (!CASES[name]) throw new Error(`unknown case ${name}; known: ${Object.keys(CASES).join(', ')}`);
  const paths = baseline === null ? [executable] : [baseline, executable];
  results.push(...(await runCase(name, CASES[name], paths)));
}
const micro = args.includes('--micro') ? await runMicro() : null;

// The first invocation of each of k fresh guests, per case (and per executable).
async function runCold(k) {
  const out = [];
  for (const name of selected) {
    const c = CASES[name];
    const paths = baseline === null ? [executable] : [baseline, executable];
    const samples = paths.map(() => []);
    for (let i = 0; i < k; i++) {
      for (let g = 0; g < paths.length; g++) {
        const guest = await startGuest(c.source, paths[g]);
        try {
          samples[g].push((await invokeOnce(guest, c.request, c.body)).guestNs);
        } finally {
          guest.kill();
        }
      }
    }
    samples.forEach((x, g) => out.push({ name, guestPath: paths[g], guest: stats(x) }));
  }
  return out;
}
const cold = option('cold', null) === null ? null : await runCold(Number(option('cold', '0')));

if (asJson) {
  console.log(JSON.stringify({ n: N, results, micro, cold }, null, 2));
} else {
  console.log(`guest_ns over ${N} invocations after ${WARMUP} warm-up (µs)`);
  console.log('case      median    p90    p99    min   | round trip median  p99 | heap used');
  if (baseline !== null) console.log(`each case twice: first ${baseline} (baseline), then ${executable}`);
  for (const r of results) {
    const g = r.guest;
    console.log(
      `${r.name.padEnd(8)} ${us(g.median).padStart(7)} ${us(g.p90).padStart(6)} ${us(g.p99).padStart(6)} ${us(g.min).padStart(6)}   | ` +
        `${us(r.rtt.median).padStart(17)} ${us(r.rtt.p99).padStart(5)} | ${r.heapUsed}`,
    );
  }
  if (cold) {
    console.log(`\nfirst invocation after LOAD, ${option('cold')} fresh guests per case (µs)`);
    console.log('case      median    p90    p99    min');
    for (const r of cold) {
      const g = r.guest;
      console.log(`${r.name.padEnd(8)} ${us(g.median).padStart(7)} ${us(g.p90).padStart(6)} ${us(g.p99).padStart(6)} ${us(g.min).padStart(6)}`);
    }
  }
  if (micro) {
    console.log('\nsingle operations inside the guest (µs each, median of 5 runs of 2000)');
    for (const [label, v] of micro) console.log(`  ${label.padEnd(34)} ${v.toFixed(2).padStart(8)}`);
  }
}
