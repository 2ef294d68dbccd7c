export { createApp } from './app.js';
export { startServer, type ServerOptions, type RunningServer } from './server.js';
export { registryLogSink, type LogSink, type BatchOptions } from './log-sink.js';
export { threadedLogSink } from './threaded-log-sink.js';
export { stdoutLogger } from './request-log.js';
export { openApiDocument } from './openapi.js';
export { GatewayMetrics, type MetricSources, type WorkerSeries } from './metrics/gateway-metrics.js';
export type { ReadinessChecks, CheckResult } from './routes/health.js';
export { STATUS_OF_KIND, type InvocationErrorType } from './status-table.js';
export { serverTiming, parseServerTiming, hopDurations, HOPS, type Hop, type GatewayTimings } from './server-timing.js';
export {
  DEFAULT_LIMITS,
  type GatewayDeps,
  type GatewayLimits,
  type Deployer,
  type DeployRequest,
  type DeployConfig,
  type Invoker,
  type InvokeRequest,
  type InvokeResult,
  type Logger,
} from './deps.js';
export {
  GatewayError,
  BadRequestError,
  UnauthorizedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  DeadlineExceededError,
  FunctionError,
} from './errors.js';
export { parseSourceMap, mapStackText, type LineMapping } from './source-map.js';
export { SourceMapFiles, type SourceMaps, type LineTable } from './source-map-files.js';
export { AsyncRunner, RETRYABLE, newRecord, type RunnerOptions } from './async/runner.js';
export { INVOCATION_TYPE_HEADER, statusPath } from './async/accept.js';
export {
  ASYNC_STATUSES,
  FINAL_STATUSES,
  RECORD_RETENTION_MS,
  type AsyncJob,
  type AsyncQueue,
  type AsyncStatus,
  type Delivery,
  type InvocationRecord,
  type StoredResult,
} from './async/queue.js';
export { PoolHistory, type PoolHistoryView, type PoolReportInput, type PoolSample } from './console/pool-history.js';
