/**
 * fn on one machine, and the platform's composition root: gateway, scheduler and one worker in
 * this process, the worker's VMs in its VMM host processes, everything persistent under one data
 * directory:
 *
 *   <data>/fn.db          registry (SQLite): tenants, keys, functions, versions, aliases, logs
 *   <data>/secrets.key    the key the registry encrypts secrets with (back it up with fn.db)
 *   <data>/snapshots/     content-addressed snapshot store (state files, memory images, bundles)
 *   <data>/work/          snapshots laid out for restores (hard links into the store)
 *   <data>/async.db       queued asynchronous invocations and their results (async/sqlite-queue.ts)
 *
 * The parts talk over the in-process bus with the contracts a NATS bus would carry; in one
 * process the bus passes invocations by reference and the scheduler sends them to the worker with
 * no claim round trip. Nothing else sits between them: the worker serves the bus itself.
 *
 * Starting is ordered so that what can fail cheaply fails first, before any child process exists
 * (the build, the data directory, the registry, the port), and every step that did start is closed
 * again if a later one fails: a failed start leaves nothing running.
 */
import { join } from 'node:path';
import {
  AsyncRunner,
  createApp,
  GatewayMetrics,
  PoolHistory,
  SourceMapFiles,
  startServer,
  stdoutLogger,
  threadedLogSink,
  type GatewayLimits,
  type Logger,
} from '@fn/gateway';
import { Registry } from '@fn/registry';
import { InProcessBus, Scheduler, SchedulerClient, serveScheduler } from '@fn/scheduler';
import { DEFAULT_GRACE_MS, SnapshotStore, type Digest, type GcReport } from '@fn/snapshots';
import { choosePlatform, prepareRestores, probeKvm, type Platform } from '@fn/vmm';
import { Deployer, DeployHost, serveWorkerOnBus, Worker } from '@fn/worker';
import { WorkerSeries } from '@fn/worker';
import { SqliteAsyncQueue, type AsyncOptions } from './async/index.js';
import { Closers } from './closers.js';
import { PlatformStartError } from './errors.js';
import { buildFilesFor, checkBuild, checkDataDir } from './preflight.js';
import { platformReadiness, storeDirCheck } from './readiness.js';
import { startTraceExport } from './trace-export.js';
import { vmHostsFromEnv } from './vm-hosts-env.js';
import { SnapshotCollector } from './snapshot-collector.js';
import { WorkerReports } from './worker-reports.js';

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
  /**
   * Where the worker holds its VMs: in VMM host processes (KVM's default: a process holding many
   * KVM VMs slows down, and a crash costs one host's VMs), or in the worker's own process (the
   * ptrace stand-in's default: each of its VMs is a process already, so a host process would only
   * add an IPC round trip to every invocation).
   */
  vmHosts?: 'processes' | 'in-process';
  /** Scheduler settings (queue lengths and waits); defaults suit one machine. */
  scheduler?: { maxQueueLength?: number; maxQueueWaitMs?: number };
  /**
   * Snapshot garbage younger than this is kept (default 1 h): it covers a deploy whose snapshot
   * is stored but not yet in the registry, and writers in other processes.
   */
  snapshotGraceMs?: number;
  /** The runtime build base snapshots are keyed by (default: digest of the guest ELF and the VMM). */
  runtimeId?: string;
  logger?: Logger;
  /** OTLP/HTTP collector for spans (default OTEL_EXPORTER_OTLP_ENDPOINT; none: no export). */
  otlpEndpoint?: string | undefined;
  /** How long a function's init may run at deploy (default LIMITS.initTimeoutMs). */
  deployInitTimeoutMs?: number;
  /** Gateway limits (deploys in flight per tenant, body sizes, …); defaults suit one machine. */
  gatewayLimits?: Partial<GatewayLimits>;
  /** Asynchronous invocations: retries, backoff, concurrency. */
  async?: AsyncOptions;
  /** A bearer token that may read /metrics besides the admin key (FN_METRICS_TOKEN). */
  metricsToken?: string | undefined;
  /** Make the base snapshot at start (fn up does): /readyz is 200 without waiting for a first deploy. */
  prepareBase?: boolean;
}

export interface RunningPlatform {
  url: string;
  platform: 'kvm' | 'ptrace';
  registry: Registry;
  deployer: Deployer;
  worker: Worker;
  /** Collects snapshot garbage now (it also runs at start, after `fn rm`, and after the grace period). */
  collectSnapshots(): Promise<GcReport>;
  /** The admin key, only at the first start (it is never shown again). */
  newAdminKey?: string | undefined;
  /** Stops serving, then stops the worker's VMM host processes and closes the registry. */
  close(): Promise<void>;
}

const WORKER_ID = 'local';

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const platform = usablePlatform(options.backend ?? 'auto');
  checkDataDir(options.dataDir);

  const closers = new Closers();
  const fail = async (error: unknown, what: string): Promise<never> => {
    await closers.closeAll();
    throw error instanceof PlatformStartError ? error : new PlatformStartError(`${what}: ${(error as Error).message}`, { cause: error });
  };

  const logger = options.logger ?? stdoutLogger;
  startTraceExport(closers, options.otlpEndpoint, 'fn', logger);
  const registry = await attempt(
    () => Registry.open(options.dataDir),
    (e) => fail(e, `could not open the registry in ${options.dataDir}`),
  );
  closers.add('registry', () => registry.close());
  // Before the port and the VMM hosts: a platform must never come up without the admin key it was asked for.
  const adminKey = options.adminKey;
  if (adminKey !== undefined)
    await attempt(
      () => registry.keys.checkAdminKeyFromEnv(adminKey),
      (e) => fail(e, 'FN_API_KEY cannot be used'),
    );
  // Our own sink, closed before the registry: the last batch of invocation records is written.
  const logSink = threadedLogSink(registry, logger);
  closers.add('invocation log', () => logSink.close());
  const graceMs = options.snapshotGraceMs ?? DEFAULT_GRACE_MS;
  const store = new SnapshotStore(join(options.dataDir, 'snapshots'), { graceMs });
  // The worker's series: its VMs and the deployer's, reported on the bus like a remote worker's.
  const series = new WorkerSeries();
  // On KVM a function's init runs in the locked-down deploy host, not in this process.
  const deployHost = platform === 'kvm' ? new DeployHost(options.dataDir) : undefined;
  if (deployHost) closers.add('deploy host', () => deployHost.close());
  const deployer = new Deployer({
    store,
    series,
    ...(deployHost ? { deployHost } : {}),
    workDir: join(options.dataDir, 'work'),
    platform,
    ...(options.runtimeId ? { runtimeId: options.runtimeId } : {}),
    ...(options.deployInitTimeoutMs ? { initTimeoutMs: options.deployInitTimeoutMs } : {}),
  });
  const sourceMaps = new SourceMapFiles(join(options.dataDir, 'source-maps'));
  const collector = new SnapshotCollector(registry, deployer, graceMs, logger, sourceMaps);
  closers.add('snapshot garbage collector', () => collector.close());
  collector.collect(); // at start: what a crash or an earlier run left behind

  // Asynchronous invocations are queued here; the runner starts once the worker is up (below).
  const asyncQueue = await attempt(
    () => SqliteAsyncQueue.open(options.dataDir),
    (e) => fail(e, `could not open the asynchronous-invocation queue in ${options.dataDir}`),
  );
  closers.add('asynchronous-invocation queue', () => asyncQueue.close());

  const bus = new InProcessBus();
  closers.add('bus', () => bus.close());
  const scheduler = new Scheduler({ bus, ...options.scheduler, log: (line) => logger(line) });
  closers.add('scheduler', () => scheduler.close());
  const served = await serveScheduler(bus, scheduler);
  closers.add('scheduler endpoint', () => served.close());
  // The workers' capacity reports: /metrics, /readyz and the console's pool sizes over time.
  const poolHistory = new PoolHistory();
  const reports = await WorkerReports.watch(bus, { onReport: (report) => poolHistory.record(report) });
  closers.add('worker reports', () => reports.close());
  const metrics = new GatewayMetrics({ workers: () => reports.series(), queueDepth: () => scheduler.stats().queued });

  const serving = new AbortController(); // aborted at close: the console's open log tails end

  const invoker = new SchedulerClient(bus);
  const app = createApp({
    registry,
    asyncQueue,
    deployer: {
      deploy: (r, signal) =>
        deployer.deploy(
          { tenant: r.tenant, name: r.name, bundle: r.bundle, memoryMiB: r.config.memoryMiB, timeoutMs: r.config.timeoutMs, env: r.config.env },
          signal,
        ),
    },
    invoker,
    snapshots: { collect: () => collector.collect(), usage: () => store.diskUsage() },
    sourceMaps,
    logSink,
    logger,
    metrics,
    metricsToken: options.metricsToken,
    readiness: platformReadiness(registry, storeDirCheck(store.dir), reports),
    poolHistory,
    closing: serving.signal,
    ...(options.gatewayLimits ? { limits: options.gatewayLimits } : {}),
  });
  const port = options.port ?? 8080;
  const hostname = options.hostname ?? '127.0.0.1';
  // The port before the VMM hosts: a port in use is the commonest failure, and costs nothing yet.
  const server = await attempt(
    () => startServer(app, { port, hostname }),
    (e) => fail(listenError(e, hostname, port), 'could not listen'),
  );
  const stopServing = once(() => {
    serving.abort();
    return server.close();
  });
  closers.add('HTTP server', stopServing);

  // Until the worker has reported, invocations answer 503 (no worker yet): retry, not an error.
  const inProcessHost = (options.vmHosts ?? vmHostsFromEnv() ?? (platform === 'kvm' ? 'processes' : 'in-process')) === 'in-process';
  // ptrace VMs held here restore into VMMs made ahead of need: start their launcher now, not on
  // the first cold start (vmm/src/ptrace-launcher.ts). Its VMMs die with it: closed after the worker.
  if (platform === 'ptrace' && inProcessHost) {
    const stopLauncher = prepareRestores();
    closers.add('ptrace VMM launcher', async () => stopLauncher());
  }
  const worker = await attempt(
    () => Worker.start({ hosts: options.hosts ?? 2, inProcessHost, dataDir: options.dataDir, series }),
    (e) => fail(e, "could not start the worker's VMM host processes"),
  );
  closers.add('worker', () => worker.close());
  const onBus = await serveWorkerOnBus(bus, {
    workerId: WORKER_ID,
    worker,
    snapshotFor: (key) => deployer.snapshotFor(key as Digest),
    baseReady: () => deployer.hasBase,
  });
  closers.add('worker endpoint', () => onBus.close());
  if (options.prepareBase) {
    // In the background: the port answers (/readyz says 503 until it is made) while the base boots.
    const preparing = deployer.prepareBase().catch((e) => logger({ level: 'warn', msg: 'could not make the base snapshot', error: (e as Error).message }));
    closers.add('base snapshot', () => preparing);
  }
  // Closed first: running attempts finish (or are left to be redelivered at the next start).
  const runner = new AsyncRunner({ queue: asyncQueue, invoker, registry, logSink, logger, ...options.async }).start();
  closers.add('asynchronous-invocation runner', () => runner.close());

  const newAdmin = await attempt(
    () => registry.keys.ensureAdminKey(options.adminKey),
    (e) => fail(e, 'could not create the admin key'),
  );

  return {
    url: server.url,
    platform,
    registry,
    deployer,
    worker,
    collectSnapshots: () => collector.run(),
    newAdminKey: newAdmin?.secret,
    close: async () => {
      // New requests stop first and requests in flight finish; then the rest, last started first.
      await stopServing();
      await closers.closeAll((what, error) => logger({ level: 'warn', msg: `closing the ${what} failed`, error: (error as Error).message }));
    },
  };
}

/** `run` the first time; the same promise every time after. */
export function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= run());
}

/** The backend to run on, or a PlatformStartError saying why there is none. */
export function usablePlatform(backend: Platform | 'auto'): 'kvm' | 'ptrace' {
  const platform = choosePlatform(backend);
  if (platform === 'process') {
    // `auto` falls back to the process sandbox when the ptrace VMM is missing: an unbuilt
    // checkout is the likelier reason, so say that first.
    checkBuild(buildFilesFor('ptrace'));
    throw new PlatformStartError(
      'the platform needs snapshots: run where /dev/kvm is usable, or as root (or with vm.mmap_min_addr <= 4096) for the ptrace stand-in',
    );
  }
  checkBuild(buildFilesFor(platform));
  if (platform === 'kvm') {
    const probe = probeKvm();
    if (!probe.ok)
      throw new PlatformStartError(`--backend kvm, but ${probe.message ?? '/dev/kvm is not usable'} — run where /dev/kvm works, or use --backend auto`);
  }
  return platform;
}

export function listenError(error: unknown, hostname: string, port: number): PlatformStartError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${hostname}:${port}`;
  if (code === 'EADDRINUSE')
    return new PlatformStartError(
      `port ${port} is already in use on ${hostname} — stop what listens there, or start fn on another port with --port N (or PORT=N)`,
      { cause: error },
    );
  if (code === 'EACCES')
    return new PlatformStartError(`not allowed to listen on ${where} — use a port above 1023, or run with the privilege to bind it`, { cause: error });
  if (code === 'EADDRNOTAVAIL')
    return new PlatformStartError(`${hostname} is not an address of this machine — use --hostname 127.0.0.1 (or 0.0.0.0 for every interface)`, {
      cause: error,
    });
  return new PlatformStartError(`could not listen on ${where}: ${(error as Error).message}`, { cause: error });
}

/** run(), or onError(its error): onError closes what started and throws. */
export async function attempt<T>(run: () => T | Promise<T>, onError: (error: unknown) => Promise<never>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return onError(error);
  }
}
