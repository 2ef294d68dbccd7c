// A guest that answers outside the invocation contract's limits: the VM layer, where the response
// leaves the guest, refuses it as a BadResponseError (kind bad_response) naming the limit. The VM
// itself is healthy: it is not discarded, and the next invocation is served.
import { BadResponseError, LIMITS } from '@fn/contract';
import { afterEach, expect, it } from 'vitest';
import { GuestCrashedError } from './errors.js';
import { MicroVM } from './microvm.js';
import { describeEachBackend } from './test-support/backends.js';

const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});

const BIG = `export default { fetch(req) {
  const u = new URL(req.url);
  if (u.pathname === '/header') return new Response('x', { headers: { 'x-big': 'a'.repeat(17 * 1024) } });
  if (u.pathname === '/many') { const h = new Headers(); for (let i = 0; i < 300; i++) h.set('x-h' + i, '1'); return new Response('x', { headers: h }); }
  if (u.pathname === '/body') return new Response(new Uint8Array(${LIMITS.bodyBytes} + 1));
  return new Response('fine');
} };`;

describeEachBackend('responses outside the limits', (backend) => {
  it('a 17 KiB header, 300 headers or a body over 6 MB are bad responses; the VM serves on', async () => {
    const vm = await MicroVM.boot({ backend, memoryMiB: 64, timeoutMs: 10_000 });
    open.push(vm);
    await vm.load(BIG);
    const header = await vm.invoke({ url: '/header' }).catch((e: unknown) => e);
    expect(header).toBeInstanceOf(BadResponseError);
    expect(header).not.toBeInstanceOf(GuestCrashedError);
    expect((header as BadResponseError).kind).toBe('bad_response');
    expect((header as Error).message).toMatch(/x-big.*17408 bytes.*16384/);
    await expect(vm.invoke({ url: '/many' })).rejects.toThrow(/30[01] headers, over the limit of 256/);
    await expect(vm.invoke({ url: '/body' })).rejects.toThrow(new RegExp(`${LIMITS.bodyBytes + 1} bytes, over the ${LIMITS.bodyBytes}-byte limit`));
    expect(vm.closed).toBe(false);
    expect((await vm.invoke({ url: '/' })).response.body.toString()).toBe('fine');
  });
});
