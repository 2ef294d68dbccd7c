/**
 * How the scheduler talks to one worker. An interface so the placement and retry logic in
 * scheduler.ts depends on these calls, not on a transport; busWorkerChannel is the real one.
 */
import type { InvocationRequest, InvocationResult } from '@fn/contract';
import type { Bus } from './bus/bus.js';
import { WorkerClaim, WorkerInvoke, workerClaimSubject, workerInvokeSubject, type ClaimReply, type ClaimRequest } from './contracts.js';

export interface WorkerChannel {
  /**
   * Whether an invocation is claimed before it is sent. Across processes a request can be lost in
   * transit, and only a claim tells "never started, retry elsewhere" from "may have run". Inside
   * one process there is no transit to lose it in: the claim would be a round trip for nothing.
   */
  readonly claimsFirst: boolean;
  claim(workerId: string, claim: ClaimRequest, timeoutMs: number): Promise<ClaimReply>;
  invoke(workerId: string, request: InvocationRequest, timeoutMs: number): Promise<InvocationResult>;
}

export function busWorkerChannel(bus: Bus): WorkerChannel {
  return {
    claimsFirst: bus.crossesProcess,
    claim: (workerId, claim, timeoutMs) => bus.request(WorkerClaim, claim, { subject: workerClaimSubject(workerId), timeoutMs }),
    invoke: (workerId, request, timeoutMs) => bus.request(WorkerInvoke, request, { subject: workerInvokeSubject(workerId), timeoutMs }),
  };
}
