/**
 * Runs a function module in the real guest: bundled by the CLI's own bundler (exactly what `fn run`
 * and `fn deploy` do), loaded into a booted microVM of the given backend, invoked once.
 */
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { bundleFunction } from '../../../cli/src/bundle.js';
import { MicroVM, type InvokeRequest, type InvokeResult } from '../../../vmm/src/index.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import type { Platform } from '../../../vmm/src/transport.js';

export const compatDir = fileURLToPath(new URL('..', import.meta.url));

const open: MicroVM[] = [];
afterAll(() => {
  while (open.length > 0) open.pop()!.close();
});

/** Boots a VM with the bundled entry loaded; closed after the test file. */
export async function loadInGuest(backend: Platform, entry: string, env: Record<string, string> = {}): Promise<MicroVM> {
  const bundle = await bundleFunction(fileURLToPath(new URL(entry, new URL('..', import.meta.url))));
  const vm = await MicroVM.boot({ backend, memoryMiB: 128, timeoutMs: scaledTimeout(20_000) });
  open.push(vm);
  await vm.load(bundle.code, { name: 'compat', env });
  return vm;
}

export async function invokeInGuest(backend: Platform, entry: string, request: InvokeRequest = {}, env: Record<string, string> = {}): Promise<InvokeResult> {
  const vm = await loadInGuest(backend, entry, env);
  return vm.invoke({ url: '/', ...request });
}

/** The response body as text, failing with the guest's error and logs when the status is not 200. */
export function bodyText(result: InvokeResult): string {
  const text = result.response.body.toString('utf8');
  if (result.response.status !== 200) {
    throw new Error(`status ${result.response.status}: ${text}\nerror: ${JSON.stringify(result.error)}\nlogs: ${JSON.stringify(result.logs)}`);
  }
  return text;
}
