/**
 * Asynchronous invocations: what is queued, what the caller can read back, and the one interface
 * both queues implement — JetStream across processes (platform/src/async/jetstream-queue.ts) and
 * SQLite in one process (platform/src/async/sqlite-queue.ts). The policy (attempts, retries,
 * dead letters, which failures are retried) lives once, in runner.ts, above either queue.
 *
 * Delivery is at least once: a delivery that is neither done nor retried (its process died) comes
 * back. A record's final state is written once: a duplicate delivery finds it final and stops, so
 * a caller never sees two results for one id.
 */
import type { FunctionRequest, InvocationLimits } from '@fn/contract';

/** One queued invocation: the version was resolved when it was accepted (as the 202 said). */
export interface AsyncJob {
  id: string;
  tenant: string;
  function: string;
  version: number;
  snapshotKey: string;
  limits: InvocationLimits;
  request: FunctionRequest;
  /** Epoch ms when the gateway accepted it. */
  createdAt: number;
}

export const ASYNC_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'dead_lettered'] as const;
export type AsyncStatus = (typeof ASYNC_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<AsyncStatus> = new Set(['succeeded', 'failed', 'dead_lettered']);

/** The function's answer; the body as base64 (records are JSON wherever they are stored). */
export interface StoredResult {
  status: number;
  headers: [string, string][];
  bodyBase64: string;
}

export interface InvocationRecord {
  id: string;
  tenant: string;
  function: string;
  version: number;
  status: AsyncStatus;
  /** Attempts started so far (1 once it first ran). */
  attempts: number;
  result?: StoredResult | undefined;
  /** The last attempt's failure: a failure kind (@fn/contract), or not_found / internal. */
  error?: { kind: string; message: string } | undefined;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number | undefined;
}

/** One delivery of a job to a runner. Exactly one of done() or retry() is called. */
export interface Delivery {
  job: AsyncJob;
  /** 1 for the first delivery; a redelivery (after a crash, or a retry) counts up. */
  attempt: number;
  /** Finished (whatever the outcome): removes the job from the queue. */
  done(): Promise<void>;
  /** Deliver again after delayMs. */
  retry(delayMs: number): Promise<void>;
  /** Still running: keeps the delivery from being handed to another runner (JetStream's ack wait). */
  working(): void;
}

export interface AsyncQueue {
  /** Stores the record (queued) and the job durably; resolves only once both are stored. */
  enqueue(job: AsyncJob): Promise<void>;
  /** The record of one invocation, if it exists and has not expired. */
  record(id: string): Promise<InvocationRecord | undefined>;
  /**
   * Compare-and-set: `change` sees the current record (undefined if none) and returns the new one,
   * or undefined to leave it. Concurrent updates are retried with the newer record.
   */
  update(id: string, change: (current: InvocationRecord | undefined) => InvocationRecord | undefined): Promise<InvocationRecord | undefined>;
  /** The next due delivery; undefined if none came within waitMs or the queue closed. */
  next(waitMs: number): Promise<Delivery | undefined>;
  /** Keeps a job that exhausted its attempts (the dead-letter queue). */
  deadLetter(job: AsyncJob, record: InvocationRecord): Promise<void>;
  close(): Promise<void>;
}

/** How long records (and their results) are kept after the invocation was accepted. */
export const RECORD_RETENTION_MS = 24 * 60 * 60 * 1000;
