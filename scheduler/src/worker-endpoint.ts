/**
 * The worker's side of the scheduler protocol, so a worker only supplies what it alone knows:
 * whether it can take an invocation (claim) and how to run it (invoke). It serves
 * worker.<id>.claim and worker.<id>.invoke, and publishes capacity reports on worker.<id>.capacity.
 */
import type { InvocationRequest, InvocationResult } from '@fn/contract';
import type { Bus } from './bus/bus.js';
import {
  WorkerCapacity,
  WorkerClaim,
  WorkerInvoke,
  workerCapacitySubject,
  workerClaimSubject,
  workerInvokeSubject,
  type CapacityReportInput,
  type ClaimReply,
  type ClaimRequest,
} from './contracts.js';

export interface WorkerEndpointOptions {
  workerId: string;
  /**
   * Whether this worker takes the invocation (it may restore a VM meanwhile). Declining, throwing
   * or not answering in time sends the scheduler to another worker. Default: always accept.
   */
  claim?: (claim: ClaimRequest) => ClaimReply | Promise<ClaimReply>;
  /**
   * Runs the invocation. A thrown error with a failure kind reaches the caller with its kind; one
   * without (a bug) as WorkerFailedError. Neither is retried: the invocation may have run.
   */
  invoke: (request: InvocationRequest) => InvocationResult | Promise<InvocationResult>;
}

export interface WorkerEndpoint {
  close(): Promise<void>;
}

export async function serveWorker(bus: Bus, options: WorkerEndpointOptions): Promise<WorkerEndpoint> {
  const claim = options.claim ?? (() => ({ accepted: true }));
  const claims = await bus.serve(WorkerClaim, (req) => claim(req), { subject: workerClaimSubject(options.workerId) });
  const invocations = await bus.serve(WorkerInvoke, (req) => options.invoke(req), { subject: workerInvokeSubject(options.workerId) });
  return {
    close: async () => {
      await claims.unsubscribe();
      await invocations.unsubscribe();
    },
  };
}

/** Publishes one capacity report; workers call it every reportIntervalMs. */
export function publishCapacity(bus: Bus, report: CapacityReportInput): Promise<void> {
  return bus.publish(WorkerCapacity, report, { subject: workerCapacitySubject(report.workerId) });
}
