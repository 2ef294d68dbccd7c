/**
 * The worker's hops of an invocation's trace: the worker's own span, and the spans of the VMM host
 * and the VM under it. The host is locked down (no sockets: vmm/native/host_lockdown.h), so it
 * exports nothing itself; the worker names the host's and the VM's spans up front, sends the VM's
 * traceparent down (the function sees it as ctx.traceparent), and, when export is on, records all
 * three from the timings the host sends back. The host's and the VM's spans are placed by their
 * measured durations, centred in the call that contains them (the two processes' clocks are one,
 * but the IPC time is split evenly between the two directions).
 */
import type { InvocationRequest, InvocationResult } from '@fn/contract';
import { childSpan, epochMs, errorText, newSpanId, parseTraceparent, recordHop, traceparentOf, tracingOn, type HopSpan, type Logger } from '@fn/telemetry';

export interface WorkerHop {
  worker: HopSpan;
  host: HopSpan;
  vm: HopSpan;
  /** What goes to the VMM host and into the VM: the VM span as the function's parent. */
  vmTraceparent: string;
}

export function startWorkerHop(req: InvocationRequest): WorkerHop | undefined {
  if (!req.traceparent) return undefined;
  const worker = childSpan(parseTraceparent(req.traceparent));
  const host: HopSpan = { traceId: worker.traceId, spanId: newSpanId(), parentSpanId: worker.spanId, sampled: worker.sampled };
  const vm: HopSpan = { traceId: worker.traceId, spanId: newSpanId(), parentSpanId: host.spanId, sampled: worker.sampled };
  return { worker, host, vm, vmTraceparent: traceparentOf(vm) };
}

export function finishWorkerHop(
  log: Logger,
  req: InvocationRequest,
  hop: WorkerHop | undefined,
  started: number,
  outcome: { result: InvocationResult } | { error: unknown },
): void {
  const ended = performance.now();
  const failed = 'error' in outcome ? errorText(outcome.error) : undefined;
  if (failed) {
    log.warn({ invocationId: req.invocationId, traceId: hop?.worker.traceId, tenant: req.tenant, function: req.function, error: failed }, 'invocation failed');
  } else if (log.isLevelEnabled('debug')) {
    const { result } = outcome as { result: InvocationResult };
    log
      .child({ invocationId: req.invocationId, traceId: hop?.worker.traceId })
      .debug({ tenant: req.tenant, function: req.function, cold: result.cold, status: result.response.status, ms: round(ended - started) }, 'invocation done');
  }
  if (!hop || !tracingOn()) return;
  const ids = { 'fn.invocation_id': req.invocationId, 'fn.tenant': req.tenant, 'fn.function': req.function };
  const timings = 'result' in outcome ? outcome.result.timings : undefined;
  recordHop(
    hop.worker,
    'worker',
    epochMs(started),
    epochMs(ended),
    { ...ids, 'fn.cold_start': 'result' in outcome ? outcome.result.cold : undefined },
    { error: failed },
  );
  if (timings?.hostCall === undefined || timings.host === undefined) return;
  const hostCallStart = ended - timings.hostCall;
  const hostStart = hostCallStart + (timings.hostCall - timings.host) / 2;
  recordHop(hop.host, 'vmm-host', epochMs(hostStart), epochMs(hostStart + timings.host), ids);
  if (timings.vm === undefined) return;
  const vmStart = hostStart + Math.max(0, timings.host - timings.vm) / 2;
  recordHop(hop.vm, 'vm', epochMs(vmStart), epochMs(vmStart + timings.vm), { ...ids, 'fn.guest_ms': timings.guest }, { kind: 'internal' });
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
