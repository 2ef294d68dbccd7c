// Blast radius (issue 13, deliverable 4), read from a live platform: every VMM process that holds a
// tenant's VM — each ptrace-vmm on the ptrace backend, each VMM host process on KVM (inside a
// Landlock domain) — runs under a seccomp filter (/proc Seccomp: 2) with no_new_privs (NoNewPrivs: 1), in "/", and holds no file of
// the data directory but the snapshot files it runs from, read-only. And a VMM killed mid-invocation
// costs only its own invocation: another function's invocation in flight at the same time answers,
// and the killed function answers its next request. What each VMM refuses to do is proven in
// vmm/src/ptrace-scenarios.test.ts (ptrace) and worker/src/vmm-host/host-lockdown.test.ts (KVM).
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from '../../cli/src/api-client.js';
import { describeEachBackend, SNAPSHOT_BACKENDS } from '../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from './start-platform.js';

const FUNCTIONS: Record<string, string> = {
  hello: 'export default { fetch() { return new Response("hello"); } };',
  slow: 'export default { async fetch() { await new Promise((r) => setTimeout(r, 2000)); return new Response("done"); } };',
};

/** pid → its command line, for every descendant of this process. */
function descendants(): Map<number, string> {
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc').filter((e) => /^[0-9]+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = new Map<number, string>();
  const isOurs = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === process.pid) return true;
    return false;
  };
  for (const pid of parentOf.keys()) {
    if (!isOurs(pid)) continue;
    try {
      out.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const field = (pid: number, name: string) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describeEachBackend(
  'VMM processes of a live platform are locked down',
  (backend) => {
    let p: RunningPlatform;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'fn-lockdown-'));
      p = await startPlatform({
        dataDir,
        port: 0,
        backend: backend as 'kvm' | 'ptrace',
        hosts: 1,
        logger: (...a: unknown[]) => {
          if (process.env.H13DEBUG) console.error(...a);
        },
      });
      const api = new ApiClient({ baseUrl: p.url, apiKey: p.newAdminKey, tenant: 'acme' });
      await api.createTenant('acme');
      for (const [name, source] of Object.entries(FUNCTIONS)) {
        await api.deploy({ name, bundle: source, config: { memoryMiB: 64, timeoutMs: 10_000, public: true } });
      }
    }, scaledTimeout(300_000));
    afterAll(async () => {
      await p?.close();
    });

    const invoke = async (name: string) => {
      const res = await fetch(`${p.url}/fn/acme/${name}`);
      const body = await res.text();
      return { status: res.status, body };
    };
    /**
     * The VMM processes: the VMM host processes (KVM), or each ptrace-vmm holding a VM. Those are
     * named "ptrace-vmm" and traced by nobody; their guest processes share the name but are traced,
     * and the launcher ("fn-vmm-launcher") and its standbys ("ptrace-standby") hold no VM yet: a
     * standby is sealed by the RESTORE that gives it one, before it answers READY.
     */
    const isPtraceVmm = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ptrace-vmm' && field(pid, 'TracerPid') === '0';
      } catch {
        return false; // gone meanwhile
      }
    };
    const vmms = () =>
      [...descendants()]
        .filter(([pid, cmd]) => (backend === 'kvm' ? /host-main\.js/.test(cmd) : /ptrace-vmm /.test(cmd) && isPtraceVmm(pid)))
        .map(([pid]) => pid);
    /** The files a process holds open (the snapshot files a restored VMM runs from, among others). */
    const openFiles = (pid: number) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).map((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`);
          } catch {
            return '';
          }
        });
      } catch {
        return [];
      }
    };

    it('every VMM process: Seccomp 2, NoNewPrivs 1, cwd /, no data-directory file but its snapshot, read-only', {
      timeout: scaledTimeout(60_000),
    }, async () => {
      expect((await invoke('hello')).body).toBe('hello');
      const pids = vmms();
      expect(pids.length, 'no VMM process found').toBeGreaterThan(0);
      for (const pid of pids) {
        expect({ pid, seccomp: field(pid, 'Seccomp'), noNewPrivs: field(pid, 'NoNewPrivs') }).toEqual({ pid, seccomp: '2', noNewPrivs: '1' });
        expect(readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
        // KVM hosts run inside the Landlock domain fn-landlock-exec entered before exec (it says
        // which ABI in their environment): the data directory is out of their reach.
        if (backend === 'kvm')
          expect(Number(/(?:^|\0)FN_LANDLOCK_ABI=(\d+)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
        for (const fd of readdirSync(`/proc/${pid}/fd`)) {
          let target: string;
          try {
            target = readlinkSync(`/proc/${pid}/fd/${fd}`);
          } catch {
            continue; // closed meanwhile
          }
          if (!target.startsWith(dataDir)) continue;
          // The snapshot files a VM runs from (laid out under <data>/work as hard links to the
          // store's content-addressed blobs; /proc may name either), nothing else.
          const snapshotFile = target.startsWith(join(dataDir, 'work')) || target.startsWith(join(dataDir, 'snapshots', 'blobs'));
          expect(snapshotFile, `VMM ${pid} holds ${target}`).toBe(true);
          const flags = Number.parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]!, 8);
          expect(flags & 3, `VMM ${pid} holds ${target} writable`).toBe(0);
        }
      }
    });

    if (backend === 'ptrace') {
      it('a ptrace-vmm killed mid-invocation costs only that invocation', { timeout: scaledTimeout(60_000) }, async () => {
        const doomed = invoke('slow');
        // The only invocation in flight: its pool is the busy one, keyed by slow's snapshot digest,
        // which names the laid-out directory its VMMs were restored from and hold their files open in.
        let key = '';
        await expect
          .poll(() => (key = p.worker.metrics().pools.find((pool) => pool.busy > 0)?.key ?? ''), { timeout: scaledTimeout(20_000), interval: 50 })
          .not.toBe('');
        const hex = key.replace(/^sha256:/, '');
        const bystander = invoke('hello');
        const victims = vmms().filter((pid) => openFiles(pid).some((file) => file.includes(hex)));
        expect(victims.length, `no ptrace-vmm restored from ${key}`).toBeGreaterThan(0);
        for (const pid of victims) process.kill(pid, 'SIGKILL');
        const [lost, fine] = await Promise.all([doomed, bystander]);
        expect(fine).toEqual({ status: 200, body: 'hello' });
        expect(lost.status).toBeGreaterThanOrEqual(500);
        expect((JSON.parse(lost.body) as { error: { type: string } }).error.type).toMatch(/function_crashed|unavailable/);
        expect(await invoke('slow')).toEqual({ status: 200, body: 'done' });
      });
    }
  },
  SNAPSHOT_BACKENDS,
);
