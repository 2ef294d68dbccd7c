/** Function modules for the worker tests, and snapshots of them made the way deploy makes them. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroVM, type VmSnapshot } from '@fn/vmm';
import type { SnapshotBackend } from './backend.js';

/**
 * A module-level counter (1 on every invocation when each starts from the snapshot), plus
 * misbehaviour on demand: /loop never returns, /oom exhausts guest memory, /sleep?ms=N waits.
 */
export const TRICKY_COUNTER = `
let n = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/loop') for (;;) {}
    if (url.pathname === '/oom') {
      const hoard = [];
      for (;;) hoard.push(new Array(1024 * 1024).fill(hoard.length));
    }
    if (url.pathname === '/sleep') await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get('ms'))));
    n += 1;
    return new Response(String(n));
  },
};`;

/** Boots a VM, loads `bundle`, snapshots it into a fresh temp dir and closes the VM. */
export async function snapshotOf(backend: SnapshotBackend, bundle = TRICKY_COUNTER, memoryMiB = 32): Promise<VmSnapshot> {
  const vm = await MicroVM.boot({ backend, memoryMiB });
  try {
    await vm.load(bundle, { name: 'worker-test' });
    return await vm.snapshot(mkdtempSync(join(tmpdir(), 'fn-worker-test-')));
  } finally {
    vm.close();
  }
}

export const text = (r: { result: { response: { body: Uint8Array } } }) => Buffer.from(r.result.response.body).toString('utf8');
