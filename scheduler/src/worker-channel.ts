/**
 * How the scheduler talks to one worker. An interface so the placement and retry logic in
 * scheduler.ts depends on two calls, not on a transport; busWorkerChannel is the real one.
 */
import type { Bus } from './bus/bus.js';
import {
  WorkerClaim,
  WorkerInvoke,
  workerClaimSubject,
  workerInvokeSubject,
  type ClaimReply,
  type ClaimRequest,
  type InvokeReply,
  type InvokeRequest,
} from './contracts.js';

export interface WorkerChannel {
  claim(workerId: string, claim: ClaimRequest, timeoutMs: number): Promise<ClaimReply>;
  invoke(workerId: string, request: InvokeRequest, timeoutMs: number): Promise<InvokeReply>;
}

export function busWorkerChannel(bus: Bus): WorkerChannel {
  return {
    claim: (workerId, claim, timeoutMs) => bus.request(WorkerClaim, claim, { subject: workerClaimSubject(workerId), timeoutMs }),
    invoke: (workerId, request, timeoutMs) => bus.request(WorkerInvoke, request, { subject: workerInvokeSubject(workerId), timeoutMs }),
  };
}
