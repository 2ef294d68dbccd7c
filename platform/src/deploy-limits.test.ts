// A deploy whose init spins (issue 13, hole 4) on the real chain: it is stopped by the deploy's
// own init budget whatever the function's timeoutMs, and its VM is stopped as soon as its client
// hangs up. The VM is a ptrace-vmm process here, so "stopped" is observable as a process gone.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ptraceVmmPath } from '@fn/vmm';
import { afterEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { startPlatform, type PlatformOptions, type RunningPlatform } from './start-platform.js';

const running: RunningPlatform[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});
const SPIN = `for (;;) {} export default { fetch() { return new Response('never'); } };`;

/**
 * pids of the ptrace-vmm processes that hold this process's VMs: its own children, or children of
 * its VMM launcher (vmm/src/ptrace-launcher.ts; its standby VMMs are named ptrace-standby until
 * they restore a VM, so they are not counted).
 */
function vmmChildren(): number[] {
  const name = basename(ptraceVmmPath).slice(0, 15);
  const procs = readdirSync('/proc')
    .filter((d) => /^[0-9]+$/.test(d))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return [{ pid: Number(pid), comm, ppid }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const launchers = new Set(procs.filter((p) => p.ppid === process.pid && p.comm === 'fn-vmm-launcher').map((p) => p.pid));
  return procs.filter((p) => p.comm === name && (p.ppid === process.pid || launchers.has(p.ppid))).map((p) => p.pid);
}

async function platformWith(options: Partial<PlatformOptions>) {
  const p = await startPlatform({
    dataDir: mkdtempSync(join(tmpdir(), 'fn-deploy-limits-')),
    port: 0,
    backend: 'ptrace',
    hosts: 1,
    logger: () => {},
    ...options,
  });
  running.push(p);
  const headers = { authorization: `Bearer ${p.newAdminKey}`, 'content-type': 'application/json' };
  expect((await fetch(`${p.url}/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ name: 'acme' }) })).status).toBe(201);
  const deploy = (bundle: string, signal?: AbortSignal) =>
    fetch(`${p.url}/v1/functions?tenant=acme`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'spin', bundle, config: { memoryMiB: 32, timeoutMs: 900_000 } }),
      ...(signal ? { signal } : {}),
    });
  return { p, deploy };
}

describeEachBackend('a deploy whose init spins', () => {
  it('is stopped by the init budget, not by its 15-minute timeoutMs, and answers 504 saying so', { timeout: scaledTimeout(60_000) }, async () => {
    const { p, deploy } = await platformWith({ deployInitTimeoutMs: scaledTimeout(1_500) });
    const res = await deploy(SPIN);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/init .* ran longer than the \d+ ms a deploy allows/);
    while (vmmChildren().length > 0) await new Promise((r) => setTimeout(r, 20)); // killed, being reaped
    expect(() => p.registry.functions.describe('acme', 'spin')).toThrow(/does not exist/);
  });

  it('has its VM stopped when the client hangs up', { timeout: scaledTimeout(60_000) }, async () => {
    // An init budget far beyond this test's timeout: only the hang-up can stop the VM in time.
    const { p, deploy } = await platformWith({ deployInitTimeoutMs: 10 * 60_000 });
    // The first deploy of a memory size makes its base snapshot: let that finish first.
    expect((await deploy(`export default { fetch() { return new Response('ok'); } };`)).status).toBe(201);
    const before = new Set(vmmChildren());
    const client = new AbortController();
    const deploying = deploy(SPIN, client.signal).catch((e: unknown) => e);
    let spinning: number | undefined;
    while (spinning === undefined) {
      await new Promise((r) => setTimeout(r, 20));
      spinning = vmmChildren().find((pid) => !before.has(pid));
    }
    client.abort();
    expect(await deploying).toBeInstanceOf(Error);
    // Without cancellation the VM spins on for the 10-minute init budget and the test times out.
    while (vmmChildren().includes(spinning)) await new Promise((r) => setTimeout(r, 20));
    expect(p.registry.functions.versions('acme', 'spin').map((v) => v.version)).toEqual([1]);
  });
}, ['ptrace']);
