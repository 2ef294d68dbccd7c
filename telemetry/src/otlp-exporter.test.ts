import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpExporter, tracesUrl } from './otlp-exporter.js';
import type { FinishedSpan } from './spans.js';
import { startOtlpReceiver, type OtlpReceiver } from './test-support/otlp-receiver.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const span = (spanId: string, parentSpanId: string | undefined, name: string, startMs = 1_700_000_000_000.25): FinishedSpan => ({
  traceId: TRACE,
  spanId,
  parentSpanId,
  name,
  startMs,
  endMs: startMs + 1.5,
  kind: 'server',
  attributes: { 'fn.invocation_id': 'inv-1', 'fn.cold_start': false, 'http.response.status_code': 200, absent: undefined },
});

/** A port nothing listens on: connections are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

let receiver: OtlpReceiver | undefined;
let exporter: OtlpExporter | undefined;
afterEach(async () => {
  await exporter?.close();
  await receiver?.close();
  exporter = receiver = undefined;
});

describe('the OTLP/HTTP JSON exporter', () => {
  it('appends /v1/traces to a base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT is meant', () => {
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/v1/traces')).toBe('http://collector:4318/v1/traces');
    expect(() => new OtlpExporter({ endpoint: 'not a url', serviceName: 'fn' })).toThrow();
  });

  it('sends batches a real receiver decodes: ids, parents, times in nanoseconds, attributes, service name', async () => {
    receiver = await startOtlpReceiver();
    exporter = new OtlpExporter({ endpoint: receiver.url, serviceName: 'fn-test', maxBatch: 2 });
    exporter.add(span('00f067aa0ba902b7', undefined, 'gateway'));
    exporter.add(span('1111111111111111', '00f067aa0ba902b7', 'scheduler'));
    exporter.add(span('2222222222222222', '1111111111111111', 'worker'));
    await exporter.flush();
    expect(receiver.requests).toBe(2); // batches of at most 2
    expect(receiver.spans.map((s) => [s.service, s.name, s.traceId, s.spanId, s.parentSpanId])).toEqual([
      ['fn-test', 'gateway', TRACE, '00f067aa0ba902b7', undefined],
      ['fn-test', 'scheduler', TRACE, '1111111111111111', '00f067aa0ba902b7'],
      ['fn-test', 'worker', TRACE, '2222222222222222', '1111111111111111'],
    ]);
    expect(receiver.spans[0]).toMatchObject({
      kind: 2,
      startNs: 1_700_000_000_000_250_000n,
      endNs: 1_700_000_000_001_750_000n,
      attributes: { 'fn.invocation_id': 'inv-1', 'fn.cold_start': false, 'http.response.status_code': '200' },
    });
    expect(exporter.stats).toEqual({ sent: 3, dropped: 0, failedBatches: 0 });
  });

  it('a full queue drops new spans and counts them; it never grows past its bound', async () => {
    receiver = await startOtlpReceiver();
    exporter = new OtlpExporter({ endpoint: receiver.url, serviceName: 'fn', maxQueue: 3, maxBatch: 100, intervalMs: 60_000 });
    for (let i = 0; i < 5; i++) exporter.add(span(`${i}`.padStart(16, 'a'), undefined, `s${i}`));
    expect(exporter.stats.dropped).toBe(2);
    await exporter.flush();
    expect(receiver.spans.map((s) => s.name)).toEqual(['s0', 's1', 's2']);
  });

  it('a collector that refuses or never answers costs the batch and one warning; add() stays synchronous', async () => {
    const errors: Error[] = [];
    exporter = new OtlpExporter({ endpoint: `http://127.0.0.1:${await closedPort()}`, serviceName: 'fn', onError: (e) => errors.push(e) });
    exporter.add(span('00f067aa0ba902b7', undefined, 'a'));
    await exporter.flush();
    exporter.add(span('00f067aa0ba902b8', undefined, 'b'));
    await exporter.flush();
    expect(exporter.stats).toEqual({ sent: 0, dropped: 2, failedBatches: 2 });
    expect(errors).toHaveLength(1); // told once, not per batch
    expect(errors[0]!.message).toMatch(/sending 1 spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed .* check the OTLP endpoint/);

    receiver = await startOtlpReceiver({ blackHole: true });
    const hanging = new OtlpExporter({ endpoint: receiver.url, serviceName: 'fn', timeoutMs: 200, onError: (e) => errors.push(e) });
    hanging.add(span('00f067aa0ba902b9', undefined, 'c'));
    await hanging.close();
    expect(receiver.requests).toBe(1);
    expect(hanging.stats).toMatchObject({ sent: 0, failedBatches: 1 });
    expect(errors[1]!.message).toMatch(/failed/);
  });
});
