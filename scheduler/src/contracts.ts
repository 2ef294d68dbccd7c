/**
 * The messages between gateway, scheduler and workers, as bus contracts. Where the bus crosses a
 * process boundary (NATS) these schemas are checked on both ends; change them compatibly or change
 * both ends. The invocation itself is @fn/contract's, defined once for every hop.
 *
 *   gateway ──scheduler.invoke──▶ scheduler ──worker.<id>.invoke──▶ worker
 *   scheduler ──worker.<id>.claim──▶ worker      (first, when the worker is in another process)
 *   scheduler ◀──worker.<id>.capacity (every reportIntervalMs)── worker
 */
import { InvocationRequestSchema, InvocationResultSchema, LIMITS, type InvocationRequest, type InvocationResult } from '@fn/contract';
import { z } from 'zod';
import { defineContract, defineEvent } from './bus/contract.js';

/** Lambda's synchronous payload limit, each way (the invocation contract's). */
export const BODY_MAX_BYTES = LIMITS.bodyBytes;

/** A worker id is one subject token: no dots, spaces or wildcards. */
export const WorkerId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 characters of letters, digits, _ and -');
/** Names a pool of identical VMs on a worker: one function version's snapshot. */
export const SnapshotKey = InvocationRequestSchema.shape.snapshotKey;

/**
 * One invocation, gateway → scheduler → worker, and its result: the invocation contract's own
 * types and schemas (@fn/contract). The scheduler reads `limits.maxConcurrency` (taken from the
 * version's config, so it needs no registry and can live on another machine); the worker ignores it.
 */
export const SchedulerInvoke = defineContract({ subject: 'scheduler.invoke', request: InvocationRequestSchema, reply: InvocationResultSchema });
export type { InvocationRequest, InvocationResult };

/**
 * Before sending an invocation, the scheduler asks the worker to take it. An answer proves the
 * invocation has not started anywhere, so a claim that times out or finds no responder can be
 * retried on another worker; once claimed, it never is (it may have run). The worker may decline
 * (full, draining), and may start restoring a VM of `snapshotKey` while the invocation travels.
 */
export const ClaimRequest = z.object({
  invocationId: InvocationRequestSchema.shape.invocationId,
  snapshotKey: SnapshotKey,
  memoryMiB: InvocationRequestSchema.shape.limits.shape.memoryMiB,
  /** How long the worker should hold the claim for the invoke that follows. */
  holdMs: z.number().int().min(1),
});
export type ClaimRequest = z.output<typeof ClaimRequest>;
export const ClaimReply = z.object({ accepted: z.boolean(), reason: z.string().max(500).optional() });
export type ClaimReply = z.output<typeof ClaimReply>;

export const WorkerClaim = defineContract({ subject: 'worker.*.claim', request: ClaimRequest, reply: ClaimReply });
export const WorkerInvoke = defineContract({ subject: 'worker.*.invoke', request: InvocationRequestSchema, reply: InvocationResultSchema });

export const PoolReport = z.object({
  key: SnapshotKey,
  /** Warm VMs restored and waiting for this key. */
  idle: z.number().int().min(0),
  busy: z.number().int().min(0),
});

/** Published by each worker every reportIntervalMs; a worker that falls silent is no longer chosen. */
export const CapacityReport = z.object({
  workerId: WorkerId,
  pools: z.array(PoolReport).max(100_000),
  vmsHeld: z.number().int().min(0),
  vmsMax: z.number().int().min(0),
  /** The worker's clock, ms since the epoch: orders reports; staleness uses the receiver's clock. */
  at: z.number().min(0),
  /**
   * New each time the worker process starts: a worker restarted under the same id within the
   * staleness window did not finish what its previous process was running.
   */
  incarnation: z.string().max(64).optional(),
  /** The worker has a base snapshot, so it can build deploys and serve (the gateway's /readyz). */
  baseReady: z.boolean().optional(),
  /** The worker's Prometheus series as prom-client JSON (worker/src/worker-metrics.ts), for the gateway's /metrics. */
  series: z.array(z.unknown()).max(1000).optional(),
});
export type CapacityReport = z.output<typeof CapacityReport>;
export type CapacityReportInput = z.input<typeof CapacityReport>;

export const WorkerCapacity = defineEvent({ subject: 'worker.*.capacity', message: CapacityReport });

/** Published by each scheduler in its own process every reportIntervalMs: its admission queues, for the gateways' /metrics. */
export const SchedulerLoadReport = z.object({
  schedulerId: WorkerId,
  /** Invocations waiting for admission. */
  queued: z.number().int().min(0),
  running: z.number().int().min(0),
  at: z.number().min(0),
});
export type SchedulerLoadReport = z.output<typeof SchedulerLoadReport>;
export const SchedulerLoad = defineEvent({ subject: 'scheduler.*.load', message: SchedulerLoadReport });

export const workerClaimSubject = (workerId: string): string => `worker.${WorkerId.parse(workerId)}.claim`;
export const workerInvokeSubject = (workerId: string): string => `worker.${WorkerId.parse(workerId)}.invoke`;
export const workerCapacitySubject = (workerId: string): string => `worker.${WorkerId.parse(workerId)}.capacity`;

/**
 * A deploy, built on a worker: the gateway needs no VM backend. The worker boots the bundle from
 * its base snapshot, snapshots it after init, stores it and publishes it where every worker can
 * fetch it; the reply names what it stored. Workers serve it as one queue group (`builders`).
 */
export const BuildRequest = z.object({
  tenant: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  bundle: z
    .string()
    .min(1)
    .max(12 * 1024 * 1024),
  memoryMiB: InvocationRequestSchema.shape.limits.shape.memoryMiB,
  timeoutMs: InvocationRequestSchema.shape.limits.shape.timeoutMs,
  env: InvocationRequestSchema.shape.env,
});
export type BuildRequest = z.output<typeof BuildRequest>;
export const BuildReply = z.object({ bundleDigest: z.string().max(200), snapshotDigest: z.string().max(200) });
export type BuildReply = z.output<typeof BuildReply>;
export const DeployBuild = defineContract({ subject: 'deploy.build', request: BuildRequest, reply: BuildReply });
