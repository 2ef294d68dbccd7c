/**
 * The scheduler's hop of an invocation's trace: a span of its own in the trace the gateway sent
 * (the worker gets the scheduler's span as its parent), a debug line with the invocation and
 * trace ids, and the span to the OTLP exporter when one is on. An invocation sent without a
 * traceparent (a test, a tool) is not traced: nothing is made for it.
 */
import type { InvocationRequest } from '@fn/contract';
import { childSpan, epochMs, errorText, parseTraceparent, recordHop, traceparentOf, tracingOn, type HopSpan } from '@fn/telemetry';

export type SchedulerLog = (line: { level: 'debug' | 'info' | 'warn'; msg: string; [field: string]: unknown }) => void;

/** Starts the scheduler's span and puts it on the request as the worker's parent. */
export function startSchedulerHop(req: InvocationRequest): HopSpan | undefined {
  if (!req.traceparent) return undefined;
  const hop = childSpan(parseTraceparent(req.traceparent));
  req.traceparent = traceparentOf(hop);
  return hop;
}

export function finishSchedulerHop(log: SchedulerLog, req: InvocationRequest, hop: HopSpan | undefined, started: number, error?: unknown): void {
  const ms = performance.now() - started;
  const failed = error === undefined ? undefined : errorText(error);
  log({
    level: 'debug',
    msg: failed ? 'invocation failed' : 'invocation scheduled',
    invocationId: req.invocationId,
    traceId: hop?.traceId,
    tenant: req.tenant,
    function: req.function,
    ms: Math.round(ms * 1000) / 1000,
    ...(failed ? { error: failed } : {}),
  });
  if (hop && tracingOn()) {
    recordHop(
      hop,
      'scheduler',
      epochMs(started),
      epochMs(),
      { 'fn.invocation_id': req.invocationId, 'fn.tenant': req.tenant, 'fn.function': req.function },
      { error: failed },
    );
  }
}
