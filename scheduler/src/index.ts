export * from './bus/index.js';
export * from './contracts.js';
export {
  SchedulerError,
  OverloadedError,
  NoWorkersError,
  WorkerUnavailableError,
  WorkerTimeoutError,
  WorkerFailedError,
  WorkerLostError,
  NoSchedulerError,
  SchedulerClosedError,
  type OverloadScope,
} from './errors.js';
export { systemClock, type Clock, type Timer } from './clock.js';
export { DEFAULT_CONFIG, resolveConfig, queueWaitBudgetMs, invocationBudgetMs, type SchedulerConfig } from './config.js';
export { Scheduler, type SchedulerOptions, type SchedulerStats } from './scheduler.js';
export { serveScheduler, type ServeSchedulerOptions, type ServedScheduler } from './serve.js';
export { SchedulerClient, reviveSchedulerError } from './client.js';
export { serveWorker, publishCapacity, type WorkerEndpointOptions, type WorkerEndpoint } from './worker-endpoint.js';
export type { WorkerChannel } from './worker-channel.js';
