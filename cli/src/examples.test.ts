// The example functions in functions/, bundled by esbuild exactly as `fn run` does, on every backend.
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { MicroVM, type Platform } from '@fn/vmm';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { bundleFunction } from './bundle.js';
import { readFunctionDir } from './function-config.js';

const functionsDir = (name: string) => fileURLToPath(new URL(`../../functions/${name}`, import.meta.url));
const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});

async function boot(name: string, backend: Platform) {
  const fn = readFunctionDir(functionsDir(name));
  const bundle = await bundleFunction(fn.entryPath);
  const vm = await MicroVM.boot({ backend, memoryMiB: fn.config.memoryMiB, timeoutMs: fn.config.timeoutMs });
  open.push(vm);
  await vm.load(bundle.code, { name: fn.config.name, env: fn.config.env });
  return { vm, config: fn.config };
}

const body = (r: { response: { body: Buffer } }) => r.response.body.toString('utf8');

describeEachBackend('example functions', (backend) => {
  it('hello greets', async () => {
    const { vm } = await boot('hello', backend);
    expect(body(await vm.invoke({}))).toBe('Hello from fn!\n');
  });

  it('whoami proves it runs inside the guest runtime', async () => {
    const { vm, config } = await boot('whoami', backend);
    expect(JSON.parse(body(await vm.invoke({})))).toEqual({
      runtime: 'fn-guest',
      version: '0.1.0',
      engine: 'quickjs 2021-03-27',
      // Named by the host at load: the one KVM ELF runs under kvm and under the ptrace stand-in.
      platform: backend,
      memoryBytes: config.memoryMiB * 1024 * 1024,
      typeofProcess: 'undefined',
      typeofRequire: 'undefined',
    });
  });

  it('fib computes in the guest', async () => {
    const { vm } = await boot('fib', backend);
    const r = JSON.parse(body(await vm.invoke({ url: '/?n=20' })));
    expect(r.result).toBe(6765);
    expect((await vm.invoke({ url: '/?n=-1' })).response.status).toBe(400);
  });

  it('uuid returns a fresh v4 UUID each time', async () => {
    const { vm } = await boot('uuid', backend);
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add(body(await vm.invoke({})));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('validate-ts (TypeScript + the npm package zod) accepts and rejects', async () => {
    const { vm } = await boot('validate-ts', backend);
    const ok = await vm.invoke({ method: 'POST', body: JSON.stringify({ email: 'ann@example.com', age: 30, name: 'Ann' }) });
    expect(ok.response.status).toBe(200);
    expect(JSON.parse(body(ok)).message).toBe('welcome, Ann');
    const bad = await vm.invoke({ method: 'POST', body: JSON.stringify({ email: 'nope', age: 3 }) });
    expect(bad.response.status).toBe(400);
    expect(JSON.parse(body(bad)).issues.map((i: { path: string }) => i.path)).toEqual(['email', 'age']);
  });
});
