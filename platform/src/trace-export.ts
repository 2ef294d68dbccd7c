/**
 * Span export for one fn process (the whole platform, or one role), when an OTLP endpoint is
 * configured (`fn up --otlp-endpoint`, or OTEL_EXPORTER_OTLP_ENDPOINT); off otherwise. Added first
 * to the closers, so it closes last and sends the spans of the requests that finished on the way down.
 */
import type { Logger } from '@fn/gateway';
import { startTracing } from '@fn/telemetry';
import type { Closers } from './closers.js';
import { PlatformStartError } from './errors.js';

export function startTraceExport(closers: Closers, endpoint: string | undefined, serviceName: string, logger: Logger): void {
  let tracing: ReturnType<typeof startTracing>;
  try {
    tracing = startTracing({ endpoint, serviceName, log: logger });
  } catch (error) {
    throw new PlatformStartError(
      `the OTLP endpoint ${JSON.stringify(endpoint)} is not a URL (${(error as Error).message}): pass --otlp-endpoint http://collector:4318, or unset OTEL_EXPORTER_OTLP_ENDPOINT`,
      { cause: error },
    );
  }
  if (!tracing) return;
  logger({ level: 'info', msg: 'exporting traces', endpoint: tracing.exporter.url, service: serviceName });
  closers.add('trace export', () => tracing.stop());
}
