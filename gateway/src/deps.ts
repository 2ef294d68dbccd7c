/**
 * What the gateway is built from. Everything it talks to is injected, so tests pass the real
 * registry with fake deployers and invokers, and the one-machine platform passes the real ones.
 * The gateway owns these interfaces; the deployer and invoker implementations live elsewhere.
 */
import { LIMITS, type InvocationRequest, type InvocationResult } from '@fn/contract';
import type { RegistryApi as Registry } from '@fn/registry';
import type { LineLogger } from '@fn/telemetry';
import type { AsyncQueue } from './async/queue.js';
import type { PoolHistoryView } from './console/pool-history.js';
import type { LogSink } from './log-sink.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { ReadinessChecks } from './routes/health.js';
import type { SourceMaps } from './source-map-files.js';

export interface DeployConfig {
  entry: string;
  memoryMiB: number;
  timeoutMs: number;
  maxConcurrency: number;
  public: boolean;
  /**
   * The env the function's init sees. Always {} from the gateway: env vars and secrets travel with
   * each invocation (InvocationRequest.env), so they are never baked into snapshot memory.
   */
  env: Record<string, string>;
}

export interface DeployRequest {
  tenant: string;
  name: string;
  /** One ES module, already bundled (esbuild, by the CLI). */
  bundle: string;
  config: DeployConfig;
}

export interface Deployer {
  /**
   * Boots the bundle, snapshots it after init and stores both; digests as the snapshot store names
   * them. `signal` is aborted when nobody waits any more (the client went away, or the deadline
   * passed): stop the build (its VM) and store nothing.
   */
  deploy(request: DeployRequest, signal?: AbortSignal): Promise<{ bundleDigest: string; snapshotDigest: string }>;
}

/** The snapshot store's disk, where the platform has one (a gateway in tests may have none). */
export interface SnapshotDisk {
  /** Asks for the disk of snapshots no version references any more (runs in the background). */
  collect(): void;
  /** What the store holds on disk now. */
  usage(): Promise<{ blobs: number; bytes: number }>;
}

/** One invocation, as the invocation contract defines it, plus when the gateway stops waiting. */
export type InvokeRequest = InvocationRequest & {
  /** Aborted when the gateway gives up waiting (deadline passed): drop the work if still queued. */
  signal: AbortSignal;
};

export type InvokeResult = InvocationResult;

export interface Invoker {
  /**
   * Resolves with the function's answer (a handler that threw included: `error` is set), or throws
   * a failure with its kind (@fn/contract: timeout, crashed, overloaded, …); anything else is a 500.
   */
  invoke(request: InvokeRequest): Promise<InvokeResult>;
}

/** One structured log line; the default writes JSON to stdout through pino (@fn/telemetry). */
export type Logger = LineLogger;

export interface GatewayDeps {
  registry: Registry;
  deployer: Deployer;
  invoker: Invoker;
  snapshots?: SnapshotDisk;
  /** Deployed bundles' source maps (stacks in logs and error bodies name the user's files); none: unmapped. */
  sourceMaps?: SourceMaps;
  /** Where invocation records go; default: a batched sink over registry.logs.append. */
  logSink?: LogSink;
  logger?: Logger;
  limits?: Partial<GatewayLimits>;
  /** Asynchronous invocations (queue.ts); without it `x-fn-invocation-type: async` answers 400. */
  asyncQueue?: AsyncQueue;
  /** The Prometheus series (GET /metrics); default: the gateway's own, with no worker series. */
  metrics?: GatewayMetrics;
  /** A bearer token that may read /metrics besides the admin key (FN_METRICS_TOKEN). */
  metricsToken?: string | undefined;
  /** What GET /readyz checks; without them it answers 503 (nobody said what ready means). */
  readiness?: ReadinessChecks;
  /** Pool sizes the workers reported, for the console (console/pool-history.ts); none: pools read empty. */
  poolHistory?: PoolHistoryView;
  /** The web console's built files; default the @fn/console workspace's dist, undefined: none. */
  consoleDir?: string | undefined;
  /** Aborted when the server stops: open streams (the console's log tail) end so it can close. */
  closing?: AbortSignal;
}

export interface GatewayLimits {
  /** The invocation contract's body limit (6 MiB, like Lambda); lower it, never raise it past that. */
  invokeBodyBytes: number;
  /** A deploy's JSON body (the bundle travels inside it as a string). */
  deployBodyBytes: number;
  /** Any other control-API JSON body. */
  controlBodyBytes: number;
  /** Waiting beyond the function's timeout (queueing, restore) before the gateway answers 504. */
  invokeGraceMs: number;
  /** A deploy (bundle → snapshot) that takes longer than this answers 504. */
  deployTimeoutMs: number;
  /** Deploys one tenant may have in progress at once; more answer 429. */
  deploysPerTenant: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  invokeBodyBytes: LIMITS.bodyBytes,
  // The bundle travels as a JSON string: quotes and backslashes double in size, so twice the bundle
  // limit plus room for the config; the schema then holds the bundle itself to LIMITS.bundleBytes.
  // Its source map (ASCII JSON, escaped once more) may come along, as large again.
  deployBodyBytes: 3 * LIMITS.bundleBytes + 1024 * 1024,
  controlBodyBytes: 1024 * 1024,
  invokeGraceMs: 30_000,
  // Init has its own short budget in the deployer; this bounds the rest (base snapshot, storing).
  deployTimeoutMs: 2 * 60_000,
  deploysPerTenant: 2,
};
