/**
 * Turns span export on for this process when an OTLP endpoint is configured: the option (`fn up
 * --otlp-endpoint`) or OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. Off otherwise.
 */
import { OtlpExporter } from './otlp-exporter.js';
import { setSpanSink } from './spans.js';
import type { LineLogger } from './logger.js';

export interface Tracing {
  exporter: OtlpExporter;
  /** Sends what is queued and turns export off. */
  stop(): Promise<void>;
}

export function otlpEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
}

/** Starts exporting this process's spans, or returns undefined when no endpoint is configured. */
export function startTracing(options: { endpoint?: string | undefined; serviceName: string; log?: LineLogger }): Tracing | undefined {
  const endpoint = options.endpoint ?? otlpEndpointFromEnv();
  if (!endpoint) return undefined;
  const exporter = new OtlpExporter({
    endpoint,
    serviceName: options.serviceName,
    onError: (error) => options.log?.({ level: 'warn', msg: 'trace export failed', error: error.message }),
  });
  setSpanSink(exporter);
  return {
    exporter,
    stop: async () => {
      setSpanSink(undefined);
      await exporter.close();
    },
  };
}
