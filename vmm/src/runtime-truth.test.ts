// What the runtime tells a function about itself is true (issue 13, hole 7): globalThis.fn.platform
// names the backend it really runs on (it said "kvm" under the ptrace stand-in, which runs the same
// guest ELF), and the truncation marker of a flooded console says how many lines were dropped.
import { afterEach, expect, it } from 'vitest';
import { MicroVM } from './microvm.js';
import { describeEachBackend } from './test-support/backends.js';
import { scaledTimeout } from './test-support/time-scale.js';

const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});

describeEachBackend('what the runtime says about itself', (backend) => {
  it('globalThis.fn.platform is the backend the VM runs on', async () => {
    const vm = await MicroVM.boot({ backend, memoryMiB: 32, timeoutMs: scaledTimeout(10_000) });
    open.push(vm);
    await vm.load(`export default { fetch() { return new Response(globalThis.fn.platform); } };`, { name: 'whoami' });
    const r = await vm.invoke({ url: '/' });
    expect(r.response.body.toString()).toBe(backend);
  });

  it('a console flood ends in a marker that counts every line dropped', { timeout: scaledTimeout(60_000) }, async () => {
    const vm = await MicroVM.boot({ backend, memoryMiB: 64, timeoutMs: scaledTimeout(30_000) });
    open.push(vm);
    const LINES = 20_000;
    await vm.load(
      `export default { fetch() { for (let i = 0; i < ${LINES}; i++) console.log('line ' + i + ' ' + 'x'.repeat(80)); return new Response('ok'); } };`,
      { name: 'flood' },
    );
    const { logs } = await vm.invoke({ url: '/' });
    const marker = logs[logs.length - 1]!;
    const kept = logs.slice(0, -1); // whole lines, and the one cut to fit
    expect(marker.message).toBe(`[logs truncated: ${LINES - kept.length} more line(s) dropped]`);
    expect(kept.length).toBeLessThan(LINES);
  });
});
