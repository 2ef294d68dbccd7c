#!/usr/bin/env node
// bench-digest.mjs — what crypto.subtle.digest and HMAC sign cost in the guest, in MiB/s, timed
// inside the guest (its own clock) over a 1 MiB buffer, under ptrace-vmm by default. Records
// numbers, never fails on them. Needs vmm/dist (npm run build).
//
//   node guest/scripts/bench-digest.mjs [--backend ptrace|process|kvm] [--mib 4]
import { parseArgs } from 'node:util';
import { MicroVM } from '../../vmm/dist/index.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'ptrace' }, mib: { type: 'string', default: '4' } } });
const mib = Number(values.mib);

const FUNCTION = `
export default {
  async fetch(request) {
    const { mib } = await request.json();
    const data = new Uint8Array(1024 * 1024).map((_, i) => i * 7);
    const key = await crypto.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const out = {};
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) {
      await crypto.subtle.digest(hash, data.subarray(0, 4096)); // warm
      const t0 = performance.now();
      for (let i = 0; i < mib; i++) await crypto.subtle.digest(hash, data);
      out[hash] = mib / ((performance.now() - t0) / 1000);
    }
    const t0 = performance.now();
    for (let i = 0; i < mib; i++) await crypto.subtle.sign('HMAC', key, data);
    out['HMAC-SHA-256'] = mib / ((performance.now() - t0) / 1000);
    return Response.json(out);
  },
};`;

const vm = await MicroVM.boot({ backend: values.backend, memoryMiB: 128, timeoutMs: 600_000 });
try {
  await vm.load(FUNCTION, { name: 'bench-digest', env: {} });
  const r = await vm.invoke({ url: '/', method: 'POST', body: Buffer.from(JSON.stringify({ mib })) });
  if (r.response.status !== 200) throw new Error(`status ${r.response.status}: ${r.response.body} ${JSON.stringify(r.error)}`);
  const rates = JSON.parse(r.response.body.toString('utf8'));
  console.log(`digest in the guest (${values.backend}, ${mib} MiB each, MiB/s):`);
  for (const [name, rate] of Object.entries(rates)) console.log(`  ${name.padEnd(13)} ${rate.toFixed(2)}`);
} finally {
  vm.close();
}
