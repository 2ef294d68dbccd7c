/**
 * The scheduler's knobs, their defaults, and the deadlines derived from them. The client uses the
 * same derivation to pick its own request timeout, so the scheduler always answers before it.
 */

export interface SchedulerConfig {
  /** Invocations one tenant may run at once across all its functions. */
  tenantMaxConcurrency: number | ((tenant: string) => number);
  /** Invocations that may wait per function; one more is refused with OverloadedError. */
  maxQueueLength: number;
  /** Invocations that may wait in all, over every function and tenant. */
  maxQueuedTotal: number;
  /** The longest an invocation waits in a queue (less if its own timeout is shorter). */
  maxQueueWaitMs: number;
  /** How often workers report capacity. */
  reportIntervalMs: number;
  /** A worker silent for this many intervals is not chosen (it may be dead or partitioned). */
  staleAfterIntervals: number;
  /** How long a worker has to accept a claim before the scheduler tries another. */
  claimTimeoutMs: number;
  /** Time a worker gets beyond the function's timeout: restoring a VM, moving the bytes, and its own watchdog firing. */
  executionGraceMs: number;
}

export const DEFAULT_CONFIG: SchedulerConfig = {
  tenantMaxConcurrency: 100,
  maxQueueLength: 100,
  maxQueuedTotal: 10_000,
  maxQueueWaitMs: 10_000,
  reportIntervalMs: 1_000,
  staleAfterIntervals: 3,
  claimTimeoutMs: 1_000,
  executionGraceMs: 2_000,
};

export function resolveConfig(partial: Partial<SchedulerConfig> = {}): SchedulerConfig {
  const config = { ...DEFAULT_CONFIG, ...withoutUndefined(partial) };
  for (const key of [
    'maxQueueLength',
    'maxQueuedTotal',
    'maxQueueWaitMs',
    'reportIntervalMs',
    'staleAfterIntervals',
    'claimTimeoutMs',
    'executionGraceMs',
  ] as const) {
    if (!Number.isFinite(config[key]) || config[key] < 0) throw new RangeError(`scheduler config ${key} must be a number >= 0, got ${config[key]}`);
  }
  return config;
}

/** Queue waits are bounded by the invocation's own timeout: a caller waiting longer than that would have given up. */
export function queueWaitBudgetMs(config: SchedulerConfig, timeoutMs: number): number {
  return Math.min(config.maxQueueWaitMs, timeoutMs);
}

/** The longest one invocation can take inside the scheduler: queue, two claims, then the run. */
export function invocationBudgetMs(config: SchedulerConfig, timeoutMs: number): number {
  return queueWaitBudgetMs(config, timeoutMs) + 2 * config.claimTimeoutMs + timeoutMs + config.executionGraceMs;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
