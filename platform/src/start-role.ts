/**
 * fn as separate processes over NATS: one role per process, any number of each.
 *
 *   gateway    HTTP API and invocations; the registry (SQLite under dataDir); no VMs: a deploy is
 *              built by a worker (deploy.build), an invocation goes to the scheduler
 *   scheduler  placement, limits and queues; no state; several share invocations as a queue group
 *   worker     the microVMs: builds deploys, restores snapshots into its store under dataDir,
 *              reports capacity
 *
 * Snapshots travel through a JetStream Object Store bucket (snapshot-exchange.ts): the worker that
 * built a deploy publishes its snapshot, any worker fetches it into its own store on first need. So
 * each process has its own data directory; several on one machine may share one (the store is
 * safe for concurrent writers, and each worker lays snapshots out in `<dataDir>/work/<workerId>`).
 * The one-process platform (start-platform.ts) is untouched by any of this: it has no NATS.
 */
import { hostname as machineName } from 'node:os';
import { join } from 'node:path';
import { AsyncRunner, createApp, GatewayMetrics, PoolHistory, registryLogSink, SourceMapFiles, startServer, stdoutLogger, type Logger } from '@fn/gateway';
import { SharedRegistry } from '@fn/registry';
import { DEFAULT_SUBJECT_PREFIX, NatsBus, Scheduler, SchedulerClient, serveScheduler } from '@fn/scheduler';
import { SnapshotStore, type Digest } from '@fn/snapshots';
import type { Platform } from '@fn/vmm';
import { Deployer, DeployHost, serveWorkerOnBus, Worker } from '@fn/worker';
import { WorkerSeries } from '@fn/worker';
import { JetStreamAsyncQueue, type AsyncOptions } from './async/index.js';
import { startTraceExport } from './trace-export.js';
import { vmHostsFromEnv } from './vm-hosts-env.js';
import { Closers } from './closers.js';
import { PlatformStartError } from './errors.js';
import { natsConnectionOptions, type NatsSecurity } from './nats-options.js';
import { checkDataDir } from './preflight.js';
import { objectStoreCheck, platformReadiness } from './readiness.js';
import { remoteBuilder, serveBuilds } from './remote-builds.js';
import { SnapshotExchange } from './snapshot-exchange.js';
import { attempt, listenError, once, usablePlatform } from './start-platform.js';
import { publishSchedulerLoad, SchedulerLoads } from './scheduler-load.js';
import { WorkerReports } from './worker-reports.js';

export const ROLES = ['gateway', 'scheduler', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export interface RoleOptions {
  role: Role;
  /** nats://host:4222 or tls://host:4222 (several: comma-separated). */
  nats: string;
  /** TLS files and credentials for NATS (nats-options.ts). */
  natsSecurity?: NatsSecurity;
  /** gateway: the key file secrets are sealed with; every gateway of one NATS needs the same (default <dataDir>/secrets.key). */
  secretKeyFile?: string;
  /** gateway: its registry; worker: its snapshot store (a cache of the object store) and work dir. */
  dataDir?: string;
  /** gateway */
  port?: number;
  hostname?: string;
  adminKey?: string | undefined;
  /** worker */
  backend?: Platform | 'auto';
  /** worker: one subject token; default <machine>-<pid>. */
  workerId?: string;
  hosts?: number;
  vmHosts?: 'processes' | 'in-process';
  /** worker: how often it reports capacity (the scheduler's reportIntervalMs; default 1 s). */
  reportEveryMs?: number;
  /** scheduler (and the gateway's deadlines derived from it). */
  scheduler?: { maxQueueLength?: number; maxQueueWaitMs?: number; reportIntervalMs?: number; staleAfterIntervals?: number };
  /** NATS subject prefix (default fn.v1): separates installations sharing one NATS. */
  subjectPrefix?: string;
  /** gateway: how it runs asynchronous invocations (async/). */
  async?: AsyncOptions;
  /** gateway: a bearer token that may read /metrics besides the admin key (FN_METRICS_TOKEN). */
  metricsToken?: string | undefined;
  /** worker: make the base snapshot at start, so the gateways' /readyz need not wait for a deploy. */
  prepareBase?: boolean;
  logger?: Logger;
  /** OTLP/HTTP collector for spans (default OTEL_EXPORTER_OTLP_ENDPOINT; none: no export). */
  otlpEndpoint?: string | undefined;
}

export interface RunningRole {
  role: Role;
  /** gateway */
  url?: string;
  newAdminKey?: string | undefined;
  /** worker */
  platform?: 'kvm' | 'ptrace';
  /** worker */
  workerId?: string;
  close(): Promise<void>;
}

export async function startRole(options: RoleOptions): Promise<RunningRole> {
  const closers = new Closers();
  const fail = async (error: unknown, what: string): Promise<never> => {
    await closers.closeAll();
    throw error instanceof PlatformStartError ? error : new PlatformStartError(`${what}: ${(error as Error).message}`, { cause: error });
  };
  const logger = options.logger ?? stdoutLogger;
  startTraceExport(closers, options.otlpEndpoint, `fn-${options.role}`, logger);
  const close = () => closers.closeAll((what, error) => logger({ level: 'warn', msg: `closing the ${what} failed`, error: (error as Error).message }));
  const connectBus = async (name: string): Promise<NatsBus> => {
    const connection = await attempt(
      () => natsConnectionOptions(options.natsSecurity ?? {}),
      (e) => fail(e, 'could not read the NATS TLS or credentials files'),
    );
    const bus = await attempt(
      () =>
        NatsBus.connect(options.nats, {
          name,
          connection,
          ...(options.subjectPrefix ? { subjectPrefix: options.subjectPrefix } : {}),
          onError: (e) => logger({ level: 'warn', msg: 'bus', error: e.message }),
        }),
      (e) => fail(e, 'could not connect to NATS'),
    );
    closers.add('NATS connection', () => bus.close());
    return bus;
  };
  const bucket = `${(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX).replace(/\./g, '-')}-snapshots`;
  const openExchange = (bus: NatsBus, store: SnapshotStore) =>
    attempt(
      () => SnapshotExchange.open(bus.nc, store, bucket),
      (e) => fail(e, 'could not open the snapshot object store'),
    );

  switch (options.role) {
    case 'scheduler': {
      const bus = await connectBus('fn-scheduler');
      const scheduler = new Scheduler({ bus, ...options.scheduler, log: (line) => logger(line) });
      closers.add('scheduler', () => scheduler.close());
      const served = await attempt(
        () => serveScheduler(bus, scheduler, { queue: 'schedulers' }),
        (e) => fail(e, 'could not serve the scheduler on NATS'),
      );
      closers.add('scheduler endpoint', () => served.close());
      // Its queue depth, for the gateways' /metrics.
      const stopLoad = publishSchedulerLoad(bus, scheduler, defaultWorkerId(), options.scheduler?.reportIntervalMs ?? 1000);
      closers.add('scheduler load reports', async () => stopLoad());
      return { role: 'scheduler', close };
    }

    case 'gateway': {
      const dataDir = requireDataDir(options);
      checkDataDir(dataDir);
      const bus = await connectBus('fn-gateway');
      // Every gateway on this NATS shares one registry: a JetStream change log replayed into this
      // gateway's SQLite (registry/src/shared), so any number of gateways may run.
      const registry = await attempt(
        () =>
          SharedRegistry.open(dataDir, bus.nc, {
            ...(options.subjectPrefix ? { subjectPrefix: options.subjectPrefix } : {}),
            ...(options.secretKeyFile ? { secretKeyFile: options.secretKeyFile } : {}),
            log: logger,
          }),
        (e) => fail(e, `could not open the shared registry (copy in ${dataDir})`),
      );
      closers.add('registry', () => registry.close());
      const logSink = registryLogSink(registry, logger);
      closers.add('invocation log', () => logSink.close());
      // The gateway keeps deployed bundles' source maps; no collector runs here, so maps of
      // deleted functions go at the next start.
      const sourceMaps = new SourceMapFiles(join(dataDir, 'source-maps'));
      sourceMaps.prune(registry.functions.referencedBundleDigests());
      // Deploys are built by a worker (remote-builds.ts): the gateway runs no VMs.
      const builder = remoteBuilder(bus);
      // Asynchronous invocations: queued on JetStream, run by every gateway's runner (see docs/multi-machine.md).
      const asyncQueue = await attempt(
        () => JetStreamAsyncQueue.open(bus.nc, options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX),
        (e) => fail(e, 'could not open the asynchronous-invocation queue on JetStream'),
      );
      const invoker = new SchedulerClient(bus, options.scheduler);
      // Workers' capacity reports carry their series and readiness: /metrics and /readyz read them.
      const staleAfterMs = (options.scheduler?.reportIntervalMs ?? 1000) * (options.scheduler?.staleAfterIntervals ?? 3);
      // ... and the console's pool sizes over time, from the same reports.
      const poolHistory = new PoolHistory();
      const reports = await WorkerReports.watch(bus, { staleAfterMs, onReport: (report) => poolHistory.record(report) });
      closers.add('worker reports', () => reports.close());
      const loads = await SchedulerLoads.watch(bus, staleAfterMs);
      closers.add('scheduler load reports', () => loads.close());
      const serving = new AbortController(); // aborted at close: the console's open log tails end
      const app = createApp({
        registry,
        asyncQueue,
        poolHistory,
        closing: serving.signal,
        deployer: {
          deploy: (r) =>
            builder.deploy({
              tenant: r.tenant,
              name: r.name,
              bundle: r.bundle,
              memoryMiB: r.config.memoryMiB,
              timeoutMs: r.config.timeoutMs,
              env: r.config.env,
            }),
        },
        invoker,
        sourceMaps,
        logSink,
        logger,
        metrics: new GatewayMetrics({ workers: () => reports.series(), queueDepth: () => loads.queued() }),
        metricsToken: options.metricsToken,
        readiness: platformReadiness(registry, objectStoreCheck(bus.nc, bucket), reports),
      });
      const runner = new AsyncRunner({ queue: asyncQueue, invoker, registry, logSink, logger, ...options.async }).start();
      closers.add('asynchronous-invocation runner', () => runner.close());
      const port = options.port ?? 8080;
      const hostname = options.hostname ?? '127.0.0.1';
      const server = await attempt(
        () => startServer(app, { port, hostname }),
        (e) => fail(listenError(e, hostname, port), 'could not listen'),
      );
      const stopServing = once(() => {
        serving.abort();
        return server.close();
      });
      closers.add('HTTP server', stopServing);
      const newAdmin = await attempt(
        () => registry.keys.ensureAdminKey(options.adminKey),
        (e) => fail(e, 'could not create the admin key'),
      );
      return {
        role: 'gateway',
        url: server.url,
        newAdminKey: newAdmin?.secret,
        close: async () => {
          await stopServing(); // Requests in flight finish first.
          await close();
        },
      };
    }

    case 'worker': {
      const dataDir = requireDataDir(options);
      const platform = usablePlatform(options.backend ?? 'auto');
      checkDataDir(dataDir);
      const workerId = options.workerId ?? defaultWorkerId();
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(workerId))
        throw new PlatformStartError(`--worker-id "${workerId}" must be 1–64 letters, digits, _ and - (it is a NATS subject token)`);
      const store = new SnapshotStore(join(dataDir, 'snapshots'));
      const series = new WorkerSeries();
      // On KVM a function's init runs in the locked-down deploy host, not in this process.
      const deployHost = platform === 'kvm' ? new DeployHost(dataDir) : undefined;
      const deployer = new Deployer({ store, workDir: join(dataDir, 'work', workerId), platform, series, ...(deployHost ? { deployHost } : {}) });
      const bus = await connectBus(`fn-worker-${workerId}`);
      const exchange = await openExchange(bus, store);
      const snapshotFor = async (key: string) => {
        await exchange.ensureLocal(key as Digest);
        return deployer.snapshotFor(key as Digest);
      };
      const inProcessHost = (options.vmHosts ?? vmHostsFromEnv() ?? (platform === 'kvm' ? 'processes' : 'in-process')) === 'in-process';
      const worker = await attempt(
        () => Worker.start({ hosts: options.hosts ?? 2, inProcessHost, dataDir, series }),
        (e) => fail(e, "could not start the worker's VMM host processes"),
      );
      closers.add('worker', () => worker.close());
      if (deployHost) closers.add('deploy host', () => deployHost.close());
      const onBus = await attempt(
        () =>
          serveWorkerOnBus(bus, {
            workerId,
            worker,
            snapshotFor,
            baseReady: () => deployer.hasBase,
            ...(options.reportEveryMs ? { reportEveryMs: options.reportEveryMs } : {}),
          }),
        (e) => fail(e, 'could not serve the worker on NATS'),
      );
      closers.add('worker endpoint', () => onBus.close());
      // A deploy is built here: the snapshot is stored, then published for every worker.
      const builds = await attempt(
        () =>
          serveBuilds(bus, async (r) => {
            const result = await deployer.deploy({
              tenant: r.tenant,
              name: r.name,
              bundle: r.bundle,
              memoryMiB: r.memoryMiB,
              timeoutMs: r.timeoutMs,
              env: r.env,
            });
            await exchange.publish(result.snapshotDigest);
            return { bundleDigest: result.bundleDigest, snapshotDigest: result.snapshotDigest };
          }),
        (e) => fail(e, 'could not serve deploys on NATS'),
      );
      closers.add('deploy endpoint', () => builds.close());
      if (options.prepareBase) {
        const preparing = deployer.prepareBase().catch((e) => logger({ level: 'warn', msg: 'could not make the base snapshot', error: (e as Error).message }));
        closers.add('base snapshot', () => preparing);
      }
      return { role: 'worker', platform, workerId, close };
    }
  }
}

function requireDataDir(options: RoleOptions): string {
  if (!options.dataDir) throw new PlatformStartError(`the ${options.role} role needs a data directory (--data DIR)`);
  return options.dataDir;
}

/** <machine>-<pid>, as a subject token (a worker's default id; a scheduler's id). */
function defaultWorkerId(): string {
  return `${machineName()
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, 40)}-${process.pid}`;
}
