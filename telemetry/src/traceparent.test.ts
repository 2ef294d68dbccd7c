import { describe, expect, it } from 'vitest';
import { childSpan, formatTraceparent, parseTraceparent, traceIdOf, traceparentOf } from './traceparent.js';

const EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C traceparent', () => {
  it('parses the spec’s example and formats it back unchanged', () => {
    const trace = parseTraceparent(EXAMPLE);
    expect(trace).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
    expect(formatTraceparent(trace!)).toBe(EXAMPLE);
    expect(parseTraceparent(EXAMPLE.replace(/01$/, '00'))?.sampled).toBe(false);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['uppercase hex', EXAMPLE.toUpperCase()],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version ff', EXAMPLE.replace(/^00/, 'ff')],
    ['version 00 with extra fields', `${EXAMPLE}-extra`],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['not hex', '00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01'],
  ])('refuses a malformed header (%s): the gateway starts a new trace', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('reads a later version by its first four fields', () => {
    expect(parseTraceparent(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-future`)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    });
  });

  it('a child span keeps the trace and names its parent; without a parent it starts a new trace', () => {
    const parent = parseTraceparent(EXAMPLE)!;
    const child = childSpan(parent);
    expect(child).toMatchObject({ traceId: parent.traceId, parentSpanId: parent.spanId, sampled: true });
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(parent.spanId);
    expect(parseTraceparent(traceparentOf(child))).toEqual({ traceId: parent.traceId, spanId: child.spanId, sampled: true });
    expect(traceIdOf(traceparentOf(child))).toBe(parent.traceId);

    const fresh = childSpan(undefined);
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.parentSpanId).toBeUndefined();
    expect(childSpan(undefined).traceId).not.toBe(fresh.traceId);
  });
});
