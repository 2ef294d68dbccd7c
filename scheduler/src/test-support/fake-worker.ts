/**
 * A worker stand-in on the bus: it speaks the real protocol (serveWorker) but holds each invocation
 * until the test finishes it, and can be told to decline, hang or vanish.
 */
import type { Bus } from '../bus/bus.js';
import { InvocationTimeoutError, type InvocationRequest, type InvocationResult } from '@fn/contract';
import type { CapacityReportInput, ClaimReply } from '../contracts.js';
import { publishCapacity, serveWorker, type WorkerEndpoint } from '../worker-endpoint.js';

interface Held {
  request: InvocationRequest;
  finish(reply?: Partial<Omit<InvocationResult, 'response'>> & { response?: Partial<InvocationResult['response']> }): void;
}

export class FakeWorker {
  /** Every invocation that reached this worker, in arrival order. */
  readonly received: InvocationRequest[] = [];
  readonly running = new Map<string, Held>();
  claims = 0;
  claimMode: 'accept' | 'decline' | 'hang' = 'accept';
  invokeMode: 'hold' | 'hang' | 'fail' | 'function-timeout' = 'hold';
  private endpoint: WorkerEndpoint | undefined;

  private constructor(
    private readonly bus: Bus,
    readonly id: string,
  ) {}

  static async start(bus: Bus, id: string): Promise<FakeWorker> {
    const worker = new FakeWorker(bus, id);
    worker.endpoint = await serveWorker(bus, {
      workerId: id,
      claim: () => worker.onClaim(),
      invoke: (request) => worker.onInvoke(request),
    });
    return worker;
  }

  /** Finishes one held invocation (the oldest if none is named). */
  finish(invocationId?: string, reply: Partial<Omit<InvocationResult, 'response'>> & { response?: Partial<InvocationResult['response']> } = {}): void {
    const held = invocationId ? this.running.get(invocationId) : this.running.values().next().value;
    if (!held) throw new Error(`${this.id} holds no invocation ${invocationId ?? ''}`);
    held.finish(reply);
  }

  finishAll(): void {
    for (const held of [...this.running.values()]) held.finish();
  }

  /** Stops serving, as if the process died: its subjects get no responders. */
  async stop(): Promise<void> {
    await this.endpoint?.close();
  }

  report(pools: CapacityReportInput['pools'] = [], vmsMax = 10, at = Date.now()): CapacityReportInput {
    return { workerId: this.id, pools, vmsHeld: pools.reduce((n, p) => n + p.idle + p.busy, 0), vmsMax, at };
  }

  publishReport(...args: Parameters<FakeWorker['report']>): Promise<void> {
    return publishCapacity(this.bus, this.report(...args));
  }

  private onClaim(): ClaimReply | Promise<ClaimReply> {
    this.claims++;
    if (this.claimMode === 'hang') return new Promise(() => {});
    return this.claimMode === 'accept' ? { accepted: true } : { accepted: false, reason: 'full' };
  }

  private onInvoke(request: InvocationRequest): Promise<InvocationResult> {
    this.received.push(request);
    if (this.invokeMode === 'hang') return new Promise(() => {});
    // An error of no failure kind: what a bug in a worker throws.
    if (this.invokeMode === 'fail') return Promise.reject(new RangeError('a bug in the worker'));
    // What a real worker throws when the function's own time limit stopped it (a kinded error).
    if (this.invokeMode === 'function-timeout') return Promise.reject(new InvocationTimeoutError('the function ran longer than its 300 ms timeout'));
    return new Promise((resolve) => {
      this.running.set(request.invocationId, {
        request,
        finish: ({ response, ...rest } = {}) => {
          this.running.delete(request.invocationId);
          const body = new TextEncoder().encode(`${this.id}:${request.invocationId}`);
          resolve({ logs: [], cold: false, timings: {}, ...rest, response: { status: 200, headers: [], body, ...response } });
        },
      });
    });
  }
}

let counter = 0;

/** A valid scheduler request; override what the test is about. */
export function scheduleRequest(
  overrides: Partial<Omit<InvocationRequest, 'limits'>> & { limits?: Partial<InvocationRequest['limits']> } = {},
): InvocationRequest {
  const { limits, ...rest } = overrides;
  return {
    invocationId: `inv-${++counter}`,
    tenant: 'acme',
    function: 'hello',
    version: 1,
    snapshotKey: 'acme/hello@1',
    env: {},
    request: { method: 'GET', url: '/', headers: [], body: new Uint8Array() },
    limits: { timeoutMs: 3_000, memoryMiB: 64, maxConcurrency: 10, ...limits },
    ...rest,
  };
}
