export { createLogger, levelFromEnv, lineLogger, rootLogger, type LineLogger, type LogLineFields, type Logger, type LoggerOptions } from './logger.js';
export { errorText } from './error-text.js';
export { redactObject, REDACTED } from './redaction.js';
export {
  childSpan,
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  traceIdOf,
  traceparentOf,
  TRACEPARENT_HEADER,
  type HopSpan,
  type TraceContext,
} from './traceparent.js';
export { epochMs, recordHop, recordSpan, setSpanSink, tracingOn, type AttributeValue, type FinishedSpan, type SpanSink } from './spans.js';
export { OtlpExporter, otlpJson, tracesUrl, type ExporterStats, type OtlpExporterOptions } from './otlp-exporter.js';
export { otlpEndpointFromEnv, startTracing, type Tracing } from './tracing.js';
