/**
 * The messages between gateway, scheduler and workers, as bus contracts. These schemas are the
 * wire format on the in-process bus and on NATS alike; change them compatibly or change both ends.
 *
 *   gateway ──scheduler.invoke──▶ scheduler ──worker.<id>.claim, worker.<id>.invoke──▶ worker
 *   scheduler ◀──worker.<id>.capacity (every reportIntervalMs)── worker
 */
import { z } from 'zod';
import { defineContract, defineEvent } from './bus/contract.js';

/** Lambda's synchronous payload limit, each way. */
export const BODY_MAX_BYTES = 6 * 1024 * 1024;

/** Same rule as the registry's tenant and function names. */
const Name = z.string().regex(/^[a-z0-9-]{1,63}$/, "must be 1–63 characters of a-z, 0-9 and '-'");
/** A worker id is one subject token: no dots, spaces or wildcards. */
export const WorkerId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 characters of letters, digits, _ and -');
export const InvocationId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1–128 characters of letters, digits and _.:-');
/** Names a pool of identical VMs on a worker: one function version's snapshot. */
export const SnapshotKey = z.string().min(1).max(512);
/** Any Uint8Array (a Buffer too); typed as Uint8Array<ArrayBufferLike> so callers' buffers fit. */
const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes (a Uint8Array)').refine((b) => b.byteLength <= BODY_MAX_BYTES, `must be at most ${BODY_MAX_BYTES} bytes`);
const HeaderPairs = z.array(z.tuple([z.string().min(1).max(256), z.string().max(16 * 1024)])).max(1_000);

export const Limits = z.object({
  timeoutMs: z.number().int().min(1).max(900_000),
  memoryMiB: z.number().int().min(16).max(1024),
});

export const HttpRequest = z.object({
  method: z.string().min(1).max(32),
  url: z.string().min(1).max(16 * 1024),
  headers: HeaderPairs,
  body: Bytes,
});

/** What a worker runs: one invocation of one function version in a VM from `snapshotKey`'s pool. */
export const InvokeRequest = z.object({
  invocationId: InvocationId,
  tenant: Name,
  function: Name,
  version: z.number().int().min(1),
  snapshotKey: SnapshotKey,
  request: HttpRequest,
  limits: Limits,
  /** The handler's env (env vars and secrets), sent per invocation so it is never in a snapshot. */
  env: z.record(z.string().min(1).max(256), z.string().max(64 * 1024)).optional(),
});
export type InvokeRequest = z.output<typeof InvokeRequest>;
export type InvokeRequestInput = z.input<typeof InvokeRequest>;

export const LogLine = z.object({
  level: z.enum(['log', 'info', 'warn', 'error', 'debug', 'trace']),
  message: z.string(),
  /** Milliseconds since the invocation started. */
  ms: z.number().min(0),
});

export const InvokeReply = z.object({
  status: z.number().int().min(100).max(599),
  headers: HeaderPairs,
  body: Bytes,
  logs: z.array(LogLine).max(100_000),
  /** Set when the function threw, timed out or its VM died: the status is then 5xx. */
  error: z.object({ name: z.string(), message: z.string(), stack: z.string().optional() }).optional(),
  /** True when no warm VM was ready and one had to be restored for this invocation. */
  cold: z.boolean(),
  durationMs: z.number().min(0),
});
export type InvokeReply = z.output<typeof InvokeReply>;
export type InvokeReplyInput = z.input<typeof InvokeReply>;

/**
 * What the gateway asks the scheduler: the worker's request plus the function's concurrency limit,
 * taken from the version's config, so the scheduler needs no registry of its own (and can live on
 * another machine). The latest value seen for a function applies.
 */
export const ScheduleRequest = InvokeRequest.extend({
  limits: Limits.extend({ maxConcurrency: z.number().int().min(1).max(100_000) }),
});
export type ScheduleRequest = z.output<typeof ScheduleRequest>;
export type ScheduleRequestInput = z.input<typeof ScheduleRequest>;

export const SchedulerInvoke = defineContract({ subject: 'scheduler.invoke', request: ScheduleRequest, reply: InvokeReply });

/**
 * Before sending an invocation, the scheduler asks the worker to take it. An answer proves the
 * invocation has not started anywhere, so a claim that times out or finds no responder can be
 * retried on another worker; once claimed, it never is (it may have run). The worker may decline
 * (full, draining), and may start restoring a VM of `snapshotKey` while the invocation travels.
 */
export const ClaimRequest = z.object({
  invocationId: InvocationId,
  snapshotKey: SnapshotKey,
  memoryMiB: z.number().int().min(16).max(1024),
  /** How long the worker should hold the claim for the invoke that follows. */
  holdMs: z.number().int().min(1),
});
export type ClaimRequest = z.output<typeof ClaimRequest>;
export const ClaimReply = z.object({ accepted: z.boolean(), reason: z.string().max(500).optional() });
export type ClaimReply = z.output<typeof ClaimReply>;

export const WorkerClaim = defineContract({ subject: 'worker.*.claim', request: ClaimRequest, reply: ClaimReply });
export const WorkerInvoke = defineContract({ subject: 'worker.*.invoke', request: InvokeRequest, reply: InvokeReply });

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
});
export type CapacityReport = z.output<typeof CapacityReport>;
export type CapacityReportInput = z.input<typeof CapacityReport>;

export const WorkerCapacity = defineEvent({ subject: 'worker.*.capacity', message: CapacityReport });

export const workerClaimSubject = (workerId: string): string => `worker.${WorkerId.parse(workerId)}.claim`;
export const workerInvokeSubject = (workerId: string): string => `worker.${WorkerId.parse(workerId)}.invoke`;
export const workerCapacitySubject = (workerId: string): string => `worker.${WorkerId.parse(workerId)}.capacity`;
