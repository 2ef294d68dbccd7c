/**
 * Spans to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding
 * (https://opentelemetry.io/docs/specs/otlp/#otlphttp), a few dozen lines instead of the SDK.
 *
 * It never slows or fails an invocation: add() only pushes onto a bounded queue (when full, new
 * spans are dropped and counted); a timer sends batches, one request at a time, each with a
 * timeout; a collector that is down or refuses costs a dropped batch and one warning, not a retry
 * storm.
 */
import type { FinishedSpan, SpanSink } from './spans.js';

export interface OtlpExporterOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT's form: the base URL; `/v1/traces` is appended unless already there. */
  endpoint: string;
  /** resource service.name: which fn process sent the spans. */
  serviceName: string;
  maxQueue?: number;
  maxBatch?: number;
  /** How often a partial batch is sent. */
  intervalMs?: number;
  /** Per request; a collector slower than this loses the batch. */
  timeoutMs?: number;
  /** Told once when sending fails (and again after sending recovers and fails anew). */
  onError?: (error: Error) => void;
}

export interface ExporterStats {
  sent: number;
  dropped: number;
  failedBatches: number;
}

/** The traces URL for an endpoint as OTEL_EXPORTER_OTLP_ENDPOINT gives it. */
export function tracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`;
}

export class OtlpExporter implements SpanSink {
  readonly url: string;
  readonly stats: ExporterStats = { sent: 0, dropped: 0, failedBatches: 0 };
  private queue: FinishedSpan[] = [];
  private sending: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private failing = false;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: OtlpExporterOptions) {
    this.url = tracesUrl(options.endpoint);
    new URL(this.url); // a malformed endpoint fails here, at start, not per batch
    this.maxQueue = options.maxQueue ?? 4096;
    this.maxBatch = options.maxBatch ?? 512;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.timer = setInterval(() => this.kick(), options.intervalMs ?? 1000);
    this.timer.unref();
  }

  add(span: FinishedSpan): void {
    if (this.queue.length >= this.maxQueue) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.maxBatch) this.kick();
  }

  /** Sends everything queued now (and waits for it): for shutdown and tests. */
  async flush(): Promise<void> {
    while (this.sending || this.queue.length > 0) {
      if (!this.sending) this.kick();
      await this.sending;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private kick(): void {
    if (this.sending || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.sending = this.send(batch).finally(() => {
      this.sending = undefined;
    });
  }

  private async send(batch: FinishedSpan[]): Promise<void> {
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(otlpJson(batch, this.options.serviceName)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`the collector answered ${response.status}`);
      this.stats.sent += batch.length;
      this.failing = false;
    } catch (err) {
      this.stats.failedBatches++;
      this.stats.dropped += batch.length;
      if (!this.failing) {
        this.failing = true;
        const cause = err as Error;
        this.options.onError?.(
          new Error(
            `sending ${batch.length} spans to ${this.url} failed (${cause.message}); spans are dropped until the collector answers — check the OTLP endpoint`,
            {
              cause,
            },
          ),
        );
      }
    }
  }
}

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

function anyValue(value: string | number | boolean): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

// OTLP's SpanKind and StatusCode numbers.
const SPAN_KIND = { internal: 1, server: 2 } as const;
const STATUS_ERROR = 2;

/** One ExportTraceServiceRequest in OTLP/JSON: hex ids, times as decimal strings of nanoseconds. */
export function otlpJson(spans: FinishedSpan[], serviceName: string): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeSpans: [
          {
            scope: { name: '@fn/telemetry' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: SPAN_KIND[s.kind],
              startTimeUnixNano: nanos(s.startMs),
              endTimeUnixNano: nanos(Math.max(s.endMs, s.startMs)),
              attributes: Object.entries(s.attributes)
                .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
                .map(([key, value]) => ({ key, value: anyValue(value) })),
              status: s.error ? { code: STATUS_ERROR, message: s.error } : {},
            })),
          },
        ],
      },
    ],
  };
}
