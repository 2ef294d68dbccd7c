/**
 * Finished spans of this process and where they go. Off by default: with no exporter set, record()
 * returns at once and nothing is kept. startTracing() (the platform and each role call it when an
 * OTLP endpoint is configured) sets the exporter for the whole process, so the hops (gateway,
 * scheduler, worker) record their spans without an exporter being passed through them.
 */
import type { HopSpan } from './traceparent.js';

export type AttributeValue = string | number | boolean;

export interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** Milliseconds since the Unix epoch (fractional). */
  startMs: number;
  endMs: number;
  /** SERVER for a hop that was called, INTERNAL for work inside one. */
  kind: 'server' | 'internal';
  /** An error status, with what went wrong. */
  error?: string | undefined;
  attributes: Record<string, AttributeValue | undefined>;
}

export interface SpanSink {
  add(span: FinishedSpan): void;
}

let sink: SpanSink | undefined;

/** The exporter for this process's spans; undefined turns tracing off again. */
export function setSpanSink(next: SpanSink | undefined): void {
  sink = next;
}

/** Whether spans are recorded at all (skip building them when not). */
export function tracingOn(): boolean {
  return sink !== undefined;
}

export function recordSpan(span: FinishedSpan): void {
  sink?.add(span);
}

/** Epoch milliseconds now, with performance.now()'s resolution. */
export function epochMs(at: number = performance.now()): number {
  return performance.timeOrigin + at;
}

/** A hop's span, finished: sampled-out traces are not recorded. */
export function recordHop(
  hop: HopSpan,
  name: string,
  startMs: number,
  endMs: number,
  attributes: FinishedSpan['attributes'],
  options: { kind?: FinishedSpan['kind']; error?: string | undefined } = {},
): void {
  if (!sink || !hop.sampled) return;
  sink.add({
    traceId: hop.traceId,
    spanId: hop.spanId,
    parentSpanId: hop.parentSpanId,
    name,
    startMs,
    endMs,
    kind: options.kind ?? 'server',
    error: options.error,
    attributes,
  });
}
