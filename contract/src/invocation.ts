/**
 * The request and the result of an invocation, as TypeScript types. In one process they pass by
 * reference through gateway → scheduler → worker, unchecked; schemas.ts checks them where they
 * cross a process boundary (the VMM host's IPC channel, a NATS bus).
 */

export type HeaderPairs = [string, string][];

/** The HTTP request a function sees. `url` is its path and query ("/users?id=7"). */
export interface FunctionRequest {
  method: string;
  url: string;
  headers: HeaderPairs;
  body: Uint8Array;
}

/** What one VM runs: the request, its id, and the handler's env (never in a snapshot). */
export interface VmRequest extends FunctionRequest {
  invocationId: string;
  env: Record<string, string>;
  /** W3C traceparent naming the VM's span (the function sees it as ctx.traceparent); absent: no trace. */
  traceparent?: string | undefined;
}

export interface InvocationLimits {
  timeoutMs: number;
  memoryMiB: number;
  /** The scheduler's per-function limit; the VM uses the other two. */
  maxConcurrency: number;
}

/** One invocation of one function version, from the gateway to the worker that runs it. */
export interface InvocationRequest {
  invocationId: string;
  tenant: string;
  function: string;
  version: number;
  /** The version's snapshot digest: names the warm pool and what a cold start restores. */
  snapshotKey: string;
  /** The version's env vars and the function's secrets (secrets win). */
  env: Record<string, string>;
  request: FunctionRequest;
  limits: InvocationLimits;
  /**
   * W3C traceparent of the hop that sent it: its trace id follows the invocation through every
   * process, its parent id is the sender's span. Each hop sends on its own span (@fn/telemetry).
   */
  traceparent?: string | undefined;
}

export interface FunctionResponse {
  status: number;
  headers: HeaderPairs;
  body: Uint8Array;
}

export type LogLevel = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';

export interface LogLine {
  level: LogLevel;
  message: string;
  /** Milliseconds since the invocation started. */
  ms: number;
}

/** What the handler threw (the response is then the runtime's 500). */
export interface ThrownError {
  name: string;
  message: string;
  stack?: string | undefined;
}

/**
 * Milliseconds each hop spent on one invocation, inclusive of the hops inside it; each layer adds
 * its own. The gateway turns them into a Server-Timing header (server-timing.ts).
 */
export interface HopTimings {
  /** The scheduler, from receiving the invocation to answering it. */
  scheduler?: number;
  /** The scheduler's call to the worker (the bus to the worker and back, and the worker). */
  dispatch?: number;
  /** The worker, from receiving the invocation to answering it. */
  worker?: number;
  /** The worker's call to its VMM host (the IPC channel both ways, and the host). */
  hostCall?: number;
  /** The VMM host, from reading the request off its channel to writing the reply. */
  host?: number;
  /** The VM round trip: encode, doorbell, guest, decode. */
  vm?: number;
  /** Inside the guest. */
  guest?: number;
  /** A cold start's restore (inside `worker`, before the VM ran). */
  restore?: number;
}

/** What a VM answered for one invocation. */
export interface VmResult {
  response: FunctionResponse;
  logs: LogLine[];
  /** Set when the handler threw. */
  error?: ThrownError | undefined;
  timings: HopTimings;
}

/** What the worker (and the scheduler) answer for one invocation. */
export interface InvocationResult extends VmResult {
  /** True when no warm VM was ready and one was restored for this invocation. */
  cold: boolean;
}
