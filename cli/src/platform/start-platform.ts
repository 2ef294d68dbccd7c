/**
 * fn on one machine: gateway, scheduler and one worker in this process, the worker's VMs in its VMM
 * host processes, everything persistent under one data directory:
 *
 *   <data>/fn.db          registry (SQLite): tenants, keys, functions, versions, aliases, logs
 *   <data>/secrets.key    the key the registry encrypts secrets with (back it up with fn.db)
 *   <data>/snapshots/     content-addressed snapshot store (state files, memory images, bundles)
 *   <data>/work/          snapshots laid out for restores (hard links into the store)
 *
 * The parts talk over the in-process bus with the same contracts a NATS bus would carry.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, startServer } from '@fn/gateway';
import { Registry } from '@fn/registry';
import { InProcessBus, Scheduler, SchedulerClient, publishCapacity, serveScheduler, serveWorker } from '@fn/scheduler';
import { SnapshotStore, type Digest } from '@fn/snapshots';
import { choosePlatform, type Platform } from '@fn/vmm';
import { Deployer, Worker } from '@fn/worker';

export interface PlatformOptions {
  dataDir: string;
  port?: number;
  hostname?: string;
  /** kvm where /dev/kvm is usable, else the ptrace stand-in; the process sandbox has no snapshots. */
  backend?: Platform | 'auto';
  /** Adopted as the admin key at the first start (FN_API_KEY). */
  adminKey?: string | undefined;
  /** VMM host processes of the worker. */
  hosts?: number;
  /** Scheduler settings (queue lengths and waits); defaults suit one machine. */
  scheduler?: { maxQueueLength?: number; maxQueueWaitMs?: number };
  logger?: (line: Record<string, unknown>) => void;
}

export interface RunningPlatform {
  url: string;
  platform: Platform;
  registry: Registry;
  deployer: Deployer;
  /** The admin key, only at the first start (it is never shown again). */
  newAdminKey?: string | undefined;
  close(): Promise<void>;
}

const WORKER_ID = 'local';
const CAPACITY_EVERY_MS = 1000;

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const platform = choosePlatform(options.backend ?? 'auto');
  if (platform === 'process') {
    throw new Error('the platform needs snapshots: run where /dev/kvm is usable, or as root (or with vm.mmap_min_addr <= 4096) for the ptrace stand-in');
  }
  mkdirSync(options.dataDir, { recursive: true });
  const registry = Registry.open(options.dataDir);
  const store = new SnapshotStore(join(options.dataDir, 'snapshots'));
  const deployer = new Deployer({ store, workDir: join(options.dataDir, 'work'), platform });
  const worker = await Worker.start({ hosts: options.hosts ?? 2 });
  const bus = new InProcessBus();
  const scheduler = new Scheduler({ bus, ...options.scheduler });
  const served = await serveScheduler(bus, scheduler);

  const endpoint = await serveWorker(bus, {
    workerId: WORKER_ID,
    invoke: async (req) => {
      const snapshot = await deployer.snapshotFor(req.snapshotKey as Digest);
      const run = await worker.invoke({
        key: req.snapshotKey,
        snapshot,
        timeoutMs: req.limits.timeoutMs,
        request: { method: req.request.method, url: req.request.url, headers: req.request.headers, body: new Uint8Array(req.request.body), invocationId: req.invocationId, ...(req.env ? { env: req.env } : {}) },
      });
      const { response, logs, error } = run.result;
      return { status: response.status, headers: response.headers, body: response.body, logs, ...(error ? { error } : {}), cold: run.cold, durationMs: run.durations.totalMs };
    },
  });
  const report = () => {
    const m = worker.metrics();
    const pools = m.pools.map((p) => ({ key: p.key, idle: p.idle, busy: p.busy }));
    const vmsHeld = pools.reduce((n, p) => n + p.idle + p.busy, 0);
    publishCapacity(bus, { workerId: WORKER_ID, pools, vmsHeld, vmsMax: m.budget.maxVms, at: Date.now() }).catch(() => {});
  };
  report();
  const reporting = setInterval(report, CAPACITY_EVERY_MS);
  reporting.unref();

  const app = createApp({
    registry,
    deployer: {
      deploy: (r) => deployer.deploy({ tenant: r.tenant, name: r.name, bundle: r.bundle, memoryMiB: r.config.memoryMiB, timeoutMs: r.config.timeoutMs, env: r.config.env }),
    },
    invoker: new SchedulerClient(bus),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const server = await startServer(app, { port: options.port ?? 8080, hostname: options.hostname ?? '127.0.0.1' });
  const newAdmin = registry.keys.ensureAdminKey(options.adminKey);

  return {
    url: server.url,
    platform,
    registry,
    deployer,
    newAdminKey: newAdmin?.secret,
    close: async () => {
      clearInterval(reporting);
      await server.close();
      await endpoint.close();
      await served.close();
      scheduler.close();
      await bus.close();
      await worker.close();
      registry.close();
    },
  };
}
