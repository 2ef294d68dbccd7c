// ptrace restores go into VMMs the launcher made ahead of need (ptrace-launcher.ts): they are the
// launcher's children, not this process's, they serve exactly like a spawned VMM, and a launcher
// that died is replaced on the next restore.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { GuestCrashedError } from './errors.js';
import { MicroVM, type VmSnapshot } from './microvm.js';
import { sharedLauncher } from './ptrace-launcher.js';
import { describeEachBackend } from './test-support/backends.js';
import { COUNTER } from './test-support/snapshot-bundles.js';

const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});
const track = (vm: MicroVM) => (open.push(vm), vm);
const text = (r: { response: { body: Buffer } }) => r.response.body.toString('utf8');

function parentOf(pid: number): number {
  // /proc/<pid>/stat: "pid (comm) state ppid …"; comm is ptrace-vmm here (no spaces or parens).
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[3]);
}

async function counterSnapshot(): Promise<VmSnapshot> {
  const vm = track(await MicroVM.boot({ backend: 'ptrace' }));
  await vm.load(COUNTER, { name: 'counter' });
  return vm.snapshot(mkdtempSync(join(tmpdir(), 'fn-launcher-test-')));
}

describeEachBackend('restores into launcher-made VMMs', () => {
  it('restores into a VMM forked by the launcher, which resets after every invocation like any other', async () => {
    const snapshot = await counterSnapshot();
    const launcher = (await sharedLauncher())!;
    expect(launcher).toBeDefined();
    const vm = track(await MicroVM.restore(snapshot));
    expect(parentOf(vm.hostPid)).not.toBe(process.pid); // not spawned by this process
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(text(await vm.invoke({})));
    expect(seen).toEqual(['1', '1', '1']);
  });

  it('reports a VMM killed under a restored VM as a crash, and restores again after the launcher died', async () => {
    const snapshot = await counterSnapshot();
    const vm = track(await MicroVM.restore(snapshot));
    process.kill(vm.hostPid, 'SIGKILL');
    await expect(vm.invoke({})).rejects.toBeInstanceOf(GuestCrashedError);

    const launcher = (await sharedLauncher())!;
    launcher.close();
    const next = track(await MicroVM.restore(snapshot));
    expect(text(await next.invoke({}))).toBe('1');
    expect((await sharedLauncher())!.alive).toBe(true);
  });
}, ['ptrace']);
