/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header, parsed,
 * checked and made. Every hop of an invocation (gateway, scheduler, worker, VMM host, VM) takes the
 * trace from the hop before it and names itself with a new span id, so one trace id follows a
 * request through every process, and each span knows its parent.
 */
import { randomBytes } from 'node:crypto';

export const TRACEPARENT_HEADER = 'traceparent';

export interface TraceContext {
  /** 32 lowercase hex digits, never all zeros. */
  traceId: string;
  /** The span id of the hop that sent it (the parent of the next span); 16 lowercase hex digits. */
  spanId: string;
  /** The sampled flag: the caller wants this trace recorded. */
  sampled: boolean;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version may append fields after the four of version 00; it is read as version 00.
const LATER_VERSION = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The trace a `traceparent` value names, or undefined when it is absent or malformed (start a new one). */
export function parseTraceparent(value: string | null | undefined): TraceContext | undefined {
  if (!value || value.length < 55 || value.length > 512) return undefined;
  const header = value.trim();
  let traceId: string;
  let spanId: string;
  let flags: string;
  const v0 = VERSION_00.exec(header);
  if (v0) {
    [, traceId, spanId, flags] = v0 as unknown as [string, string, string, string];
  } else {
    const later = LATER_VERSION.exec(header);
    // Version ff is forbidden; 00 with extra fields is malformed (only later versions may add some).
    if (!later || later[1] === 'ff' || later[1] === '00') return undefined;
    [, , traceId, spanId, flags] = later as unknown as [string, string, string, string, string];
  }
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? '01' : '00'}`;
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

/** One hop's span: a new span id in the caller's trace (or in a new trace when there is none). */
export interface HopSpan {
  traceId: string;
  spanId: string;
  /** The caller's span, when the trace came in with one. */
  parentSpanId: string | undefined;
  sampled: boolean;
}

export function childSpan(parent: TraceContext | undefined, sampledByDefault = true): HopSpan {
  if (!parent) return { traceId: newTraceId(), spanId: newSpanId(), parentSpanId: undefined, sampled: sampledByDefault };
  return { traceId: parent.traceId, spanId: newSpanId(), parentSpanId: parent.spanId, sampled: parent.sampled };
}

/** The traceparent a hop sends on: its own span as the parent of the next one. */
export function traceparentOf(span: HopSpan): string {
  return formatTraceparent({ traceId: span.traceId, spanId: span.spanId, sampled: span.sampled });
}

/** The trace id of a traceparent already checked at the edge (a fixed offset: no parse). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? traceparent.slice(3, 35) : undefined;
}
