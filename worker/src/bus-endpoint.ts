/**
 * The worker on the bus: serves worker.<id>.invoke (and worker.<id>.claim, which a scheduler in
 * another process sends first) and publishes the worker's capacity on worker.<id>.capacity. This
 * is the whole of the worker's wiring: a platform that starts a Worker and a bus calls this, and
 * nothing stands between the two.
 *
 * An invocation arrives in the invocation contract's form and goes to the VMM host as it is: the
 * request body is the very Uint8Array the gateway read, until the host's channel copies it.
 */
import { randomUUID } from 'node:crypto';
import type { InvocationRequest, InvocationResult } from '@fn/contract';
import { publishCapacity, serveWorker, type Bus } from '@fn/scheduler';
import { rootLogger, type Logger } from '@fn/telemetry';
import type { VmSnapshot } from '@fn/vmm';
import { finishWorkerHop, startWorkerHop } from './invocation-trace.js';
import type { Worker } from './worker.js';

export interface WorkerOnBusOptions {
  /** One subject token: letters, digits, _ and -. */
  workerId: string;
  worker: Worker;
  /** The snapshot a pool key (a version's snapshot digest) names, laid out for restores. */
  snapshotFor(key: string): Promise<VmSnapshot>;
  /** Where the worker's lines go (default: this process's stdout logger; debug: one per invocation). */
  logger?: Logger;
  /** How often capacity is published (default 1 s: the scheduler's reportIntervalMs). */
  reportEveryMs?: number;
  /** Whether this worker has a base snapshot (the Deployer's hasBase); reported for the gateway's /readyz. */
  baseReady?: () => boolean;
}

export interface WorkerOnBus {
  /** Stops serving and reporting; the Worker itself is the caller's to close. */
  close(): Promise<void>;
}

export async function serveWorkerOnBus(bus: Bus, options: WorkerOnBusOptions): Promise<WorkerOnBus> {
  const { workerId, worker } = options;
  const log = options.logger ?? rootLogger();
  const invoke = async (req: InvocationRequest): Promise<InvocationResult> => {
    const started = performance.now();
    const hop = startWorkerHop(req);
    try {
      const snapshot = await options.snapshotFor(req.snapshotKey);
      const run = await worker.run(
        { key: req.snapshotKey, snapshot, timeoutMs: req.limits.timeoutMs, maxConcurrency: req.limits.maxConcurrency },
        { ...req.request, invocationId: req.invocationId, env: req.env, traceparent: hop?.vmTraceparent },
      );
      const result = { ...run.result, cold: run.cold };
      finishWorkerHop(log, req, hop, started, { result });
      return result;
    } catch (error) {
      finishWorkerHop(log, req, hop, started, { error });
      throw error;
    }
  };
  const endpoint = await serveWorker(bus, { workerId, invoke });

  // New per process: a scheduler tells a restarted worker from the one that held its invocations.
  const incarnation = randomUUID();
  const report = async (): Promise<void> => {
    const m = worker.metrics();
    const pools = m.pools.map((p) => ({ key: p.key, idle: p.idle, busy: p.busy }));
    const vmsHeld = pools.reduce((n, p) => n + p.idle + p.busy, 0);
    // The worker's Prometheus series ride along: the gateway's /metrics shows them per worker.
    const series = await worker.series.json();
    const baseReady = options.baseReady?.();
    await publishCapacity(bus, {
      workerId,
      pools,
      vmsHeld,
      vmsMax: m.budget.maxVms,
      at: Date.now(),
      incarnation,
      series,
      ...(baseReady === undefined ? {} : { baseReady }),
    });
  };
  // A report that cannot be sent (the bus is closing) is simply the last one.
  const reportQuietly = (): void => void report().catch(() => {});
  // The first report is sent before this returns: a worker that is "up" is one the scheduler can
  // place on (the async runner starts right after, and would otherwise meet "no workers").
  await report().catch(() => {});
  const reporting = setInterval(reportQuietly, options.reportEveryMs ?? 1000);
  reporting.unref();

  return {
    close: async () => {
      clearInterval(reporting);
      await endpoint.close();
    },
  };
}
