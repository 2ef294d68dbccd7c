/**
 * What the gateway is built from. Everything it talks to is injected, so tests pass the real
 * registry with fake deployers and invokers, and the one-machine platform passes the real ones.
 * The gateway owns these interfaces; the deployer and invoker implementations live elsewhere.
 */
import type { Registry } from '@fn/registry';
import type { LogSink } from './log-sink.js';

export interface DeployConfig {
  entry: string;
  memoryMiB: number;
  timeoutMs: number;
  maxConcurrency: number;
  public: boolean;
  /**
   * The env the function's init sees. Always {} from the gateway: env vars and secrets travel with
   * each invocation (InvokeRequest.env), so they are never baked into snapshot memory.
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
  /** Stores the bundle, boots it, snapshots it after init; digests as the snapshot store names them. */
  deploy(request: DeployRequest): Promise<{ bundleDigest: string; snapshotDigest: string }>;
}

export interface InvokeRequest {
  invocationId: string;
  tenant: string;
  function: string;
  version: number;
  /** The version's snapshot digest: what the worker restores. */
  snapshotKey: string;
  /** The handler's `env`: the version's env vars and the function's secrets (secrets win). */
  env: Record<string, string>;
  request: {
    method: string;
    /** The path after /fn/<tenant>/<name>[@<selector>], with the query string: "/users?x=1". */
    url: string;
    headers: [string, string][];
    body: Uint8Array;
  };
  /** maxConcurrency is for the scheduler's per-function limit; the VM uses the other two. */
  limits: { timeoutMs: number; memoryMiB: number; maxConcurrency: number };
  /** Aborted when the gateway gives up waiting (deadline passed): drop the work if still queued. */
  signal: AbortSignal;
}

export interface InvokeResult {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  logs: { level: string; message: string; ms: number }[];
  /** Set when the handler threw instead of returning a response. */
  error?: { name: string; message: string; stack?: string | undefined } | undefined;
  cold: boolean;
  durationMs: number;
}

export interface Invoker {
  /** May throw the failure shapes listed in invoker-failures.ts (overloaded, timeout, crash, unavailable). */
  invoke(request: InvokeRequest): Promise<InvokeResult>;
}

/** One structured log line; the default writes JSON to stdout. */
export type Logger = (line: Record<string, unknown>) => void;

export interface GatewayDeps {
  registry: Registry;
  deployer: Deployer;
  invoker: Invoker;
  /** Where invocation records go; default: a batched sink over registry.logs.append. */
  logSink?: LogSink;
  logger?: Logger;
  limits?: Partial<GatewayLimits>;
}

export interface GatewayLimits {
  /** Lambda's synchronous payload limit; the VM's request window is the same 6 MiB. */
  invokeBodyBytes: number;
  /** A deploy's JSON body (the bundle travels inside it as a string). */
  deployBodyBytes: number;
  /** Any other control-API JSON body. */
  controlBodyBytes: number;
  /** Waiting beyond the function's timeout (queueing, restore) before the gateway answers 504. */
  invokeGraceMs: number;
  /** A deploy (bundle → snapshot) that takes longer than this answers 504. */
  deployTimeoutMs: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  invokeBodyBytes: 6 * 1024 * 1024,
  deployBodyBytes: 64 * 1024 * 1024,
  controlBodyBytes: 1024 * 1024,
  invokeGraceMs: 30_000,
  deployTimeoutMs: 10 * 60_000,
};
