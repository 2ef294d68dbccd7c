/**
 * What the gateway uses to invoke through the scheduler over the bus. It picks a request timeout
 * the scheduler always beats, and turns the scheduler's errors back into their own classes (and
 * any other failure back into its kind's class), so the gateway sees what really happened, as if
 * everything ran in its own process.
 */
import type { InvocationRequest, InvocationResult } from '@fn/contract';
import type { Bus } from './bus/bus.js';
import { NoRespondersError, RemoteError } from './bus/errors.js';
import { invocationBudgetMs, resolveConfig, type SchedulerConfig } from './config.js';
import { SchedulerInvoke } from './contracts.js';
import { kindedError } from './kinded-error.js';
import {
  NoSchedulerError,
  NoWorkersError,
  OverloadedError,
  SchedulerClosedError,
  WorkerFailedError,
  WorkerLostError,
  WorkerTimeoutError,
  WorkerUnavailableError,
  type OverloadScope,
} from './errors.js';

/** Beyond the scheduler's own budget: the bus hops there and back. */
const TRANSPORT_MARGIN_MS = 1_000;

export class SchedulerClient {
  private readonly config: SchedulerConfig;

  /** `config`: the scheduler's settings that bound its deadlines (queue wait, claim, grace), if not the defaults. */
  constructor(
    private readonly bus: Bus,
    config: Partial<SchedulerConfig> = {},
  ) {
    this.config = resolveConfig(config);
  }

  /**
   * `signal` stops the wait here; the scheduler, on the other side of the bus, still drops the
   * invocation at its own queue deadline at the latest.
   */
  async invoke(input: InvocationRequest & { signal?: AbortSignal | undefined }): Promise<InvocationResult> {
    const { signal, ...req } = input;
    signal?.throwIfAborted();
    const timeoutMs = invocationBudgetMs(this.config, req.limits.timeoutMs) + TRANSPORT_MARGIN_MS;
    const reply = this.bus.request(SchedulerInvoke, req, { timeoutMs }).catch((err: unknown) => {
      throw reviveSchedulerError(err);
    });
    return signal ? untilAborted(reply, signal) : reply;
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const SCOPES: readonly string[] = ['function', 'tenant', 'platform'] satisfies OverloadScope[];

/** The scheduler error a RemoteError stands for, with the RemoteError as its cause; anything else unchanged. */
export function reviveSchedulerError(err: unknown): unknown {
  if (err instanceof NoRespondersError) {
    return new NoSchedulerError(
      'no scheduler answers on scheduler.invoke — start one (fn up --role scheduler --nats …), or check that this gateway and the schedulers use the same NATS',
      { cause: err },
    );
  }
  if (!(err instanceof RemoteError)) return err;
  const { message, details } = err;
  const cause = { cause: err };
  const workerId = typeof details.workerId === 'string' ? details.workerId : 'unknown';
  switch (err.remoteName) {
    case 'OverloadedError': {
      const { retryAfterSeconds, scope } = details;
      if (typeof retryAfterSeconds !== 'number' || typeof scope !== 'string' || !SCOPES.includes(scope)) return err;
      return new OverloadedError(message, retryAfterSeconds, scope as OverloadScope, cause);
    }
    case 'NoWorkersError':
      return new NoWorkersError(message, cause);
    case 'WorkerUnavailableError':
      return new WorkerUnavailableError(message, cause);
    case 'WorkerTimeoutError':
      return new WorkerTimeoutError(message, workerId, cause);
    case 'WorkerLostError':
      return new WorkerLostError(message, workerId, cause);
    case 'WorkerFailedError':
      return new WorkerFailedError(message, workerId, cause);
    case 'SchedulerClosedError':
      return new SchedulerClosedError(message, cause);
    default:
      return kindedError(err) ?? err;
  }
}
