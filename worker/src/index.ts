export { Worker, type WorkerOptions, type WorkerInvokeInput, type WorkerInvokeResult, type WorkerMetrics, type PoolTarget } from './worker.js';
export { serveWorkerOnBus, type WorkerOnBusOptions, type WorkerOnBus } from './bus-endpoint.js';
export { FunctionPool, type PoolSettings, type PoolMetrics, type VmHandle, type Acquired } from './function-pool.js';
export { HostPool, type HostPoolOptions, type HostInfo } from './vmm-host/host-pool.js';
export { VmmHost, type VmmHostOptions } from './vmm-host/host-client.js';
export { DeployHost, type DeployHostOptions } from './vmm-host/deploy-host.js';
export { LocalHost } from './vmm-host/local-host.js';
export type { VmHost } from './vmm-host/vm-host.js';
export { defaultHostEntry, type HostEntry } from './vmm-host/host-entry.js';
export type { HostStats } from './vmm-host/protocol.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export type { Percentiles } from './latency.js';
export {
  WorkerError,
  RuntimeMismatchError,
  VmmHostCrashedError,
  VmmHostStartError,
  VmmHostTimeoutError,
  VmmHostProtocolError,
  VmLostError,
  WorkerAtCapacityError,
  PoolConfigMismatchError,
  WorkerClosedError,
  DeployInitTimeoutError,
  DeployCancelledError,
} from './errors.js';
export { Deployer, DEFAULT_BASE_MIB, type DeployRequest, type DeployResult, type DeployerOptions } from './deployer.js';
export { WorkerSeries, type RestoreReason, type CreatePurpose } from './worker-metrics.js';
