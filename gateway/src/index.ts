export { createApp } from './app.js';
export { startServer, type ServerOptions, type RunningServer } from './server.js';
export { registryLogSink, type LogSink, type BatchOptions } from './log-sink.js';
export { openApiDocument } from './openapi.js';
export { classifyFailure, type Failure, type OverloadedShape } from './invoker-failures.js';
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
  InvokerContractError,
} from './errors.js';
