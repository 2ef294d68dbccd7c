/**
 * The scheduler: admits an invocation under its limits (admission.ts), places it on a worker
 * (roster.ts), and runs it there. A worker in another process is asked to claim the invocation
 * first, so that a worker that is gone or stuck before the invocation started can be skipped for
 * another, exactly once, without ever running an invocation twice; a worker in this process
 * cannot be lost in transit, so it gets the invocation at once, with no claim round trip. Every
 * wait has a deadline derived from the invocation's timeout.
 *
 * A worker's failure with a failure kind (the function timed out, crashed, answered badly; a host
 * died) passes through unchanged, so the gateway answers for what really happened.
 * Transport-free apart from the Bus interface; serve.ts puts it on the bus.
 */
import type { InvocationRequest, InvocationResult } from '@fn/contract';
import { Admission, type Permit } from './admission.js';
import type { Bus } from './bus/bus.js';
import { BusClosedError, BusContractError, BusTimeoutError, NoRespondersError, RemoteError } from './bus/errors.js';
import { systemClock, type Clock } from './clock.js';
import { invocationBudgetMs, queueWaitBudgetMs, resolveConfig, type SchedulerConfig } from './config.js';
import type { CapacityReport } from './contracts.js';
import { withDeadline } from './deadline.js';
import { NoWorkersError, WorkerFailedError, WorkerLostError, WorkerTimeoutError, WorkerUnavailableError } from './errors.js';
import { kindedError } from './kinded-error.js';
import { LossWatch } from './loss-watch.js';
import { Roster } from './roster.js';
import { ServiceTimes } from './service-time.js';
import { busWorkerChannel, type WorkerChannel } from './worker-channel.js';
import { finishSchedulerHop, startSchedulerHop, type SchedulerLog } from './invocation-trace.js';

export interface SchedulerOptions extends Partial<SchedulerConfig> {
  /** Carries claims and invocations to workers (worker.<id>.claim, worker.<id>.invoke). */
  bus: Bus;
  clock?: Clock;
  /** Where the scheduler says what the operator should know (a worker lost mid-invocation). */
  log?: SchedulerLog;
}

export interface SchedulerStats {
  running: number;
  queued: number;
  liveWorkers: string[];
}

/** At most this many workers per invocation: the first choice and one retry. */
const MAX_ATTEMPTS = 2;

export class Scheduler {
  readonly config: SchedulerConfig;
  private readonly clock: Clock;
  private readonly channel: WorkerChannel;
  private readonly roster: Roster;
  private readonly admission: Admission;
  private readonly serviceTimes = new ServiceTimes();
  private readonly lossWatch: LossWatch;
  private readonly log: NonNullable<SchedulerOptions['log']>;

  constructor(options: SchedulerOptions) {
    const { bus, clock, log, ...config } = options;
    this.log = log ?? (() => {});
    this.config = resolveConfig(config);
    this.clock = clock ?? systemClock;
    this.channel = busWorkerChannel(bus);
    this.roster = new Roster(this.clock, this.config.reportIntervalMs * this.config.staleAfterIntervals);
    this.lossWatch = new LossWatch(
      this.clock,
      this.config.reportIntervalMs,
      (id) => this.roster.isLive(id),
      (id) => this.roster.incarnation(id),
    );
    const tenantMax = this.config.tenantMaxConcurrency;
    this.admission = new Admission({
      clock: this.clock,
      tenantMax: typeof tenantMax === 'function' ? tenantMax : () => tenantMax,
      platformCapacity: () => this.roster.capacity(),
      maxQueueLength: this.config.maxQueueLength,
      maxQueuedTotal: this.config.maxQueuedTotal,
      serviceTimes: this.serviceTimes,
    });
  }

  /**
   * Runs one invocation and returns the worker's result. Rejects with OverloadedError (limits or
   * queue), NoWorkersError, WorkerUnavailableError, WorkerTimeoutError, SchedulerClosedError, the
   * worker's own failure when it has a kind, or WorkerFailedError when it has none. `signal`: the
   * caller gave up — honoured until a worker has the invocation (then it runs to its own timeout).
   * The request is not checked again: the bus checks it where it crosses a process boundary.
   */
  async invoke(input: InvocationRequest & { signal?: AbortSignal | undefined }): Promise<InvocationResult> {
    const received = performance.now();
    const { signal, ...req } = input;
    const hop = startSchedulerHop(req);
    if (this.roster.liveIds().length === 0) {
      throw new NoWorkersError(
        `no worker has reported capacity in the last ${this.config.reportIntervalMs * this.config.staleAfterIntervals} ms: start a worker, or check that it publishes on worker.<id>.capacity`,
      );
    }
    let permit: Permit;
    try {
      permit = await this.admission.acquire(
        {
          tenant: req.tenant,
          function: req.function,
          functionMax: req.limits.maxConcurrency,
          waitBudgetMs: queueWaitBudgetMs(this.config, req.limits.timeoutMs),
        },
        signal,
      );
    } catch (err) {
      finishSchedulerHop(this.log, req, hop, received, err);
      throw err;
    }
    try {
      const started = this.clock.now();
      const result = await this.dispatch(req, signal);
      this.serviceTimes.observe(`${req.tenant}/${req.function}`, this.clock.now() - started);
      result.timings.scheduler = performance.now() - received;
      finishSchedulerHop(this.log, req, hop, received);
      return result;
    } catch (err) {
      finishSchedulerHop(this.log, req, hop, received, err);
      throw err;
    } finally {
      permit.release();
    }
  }

  /** Takes a worker's capacity report (serve.ts subscribes to them on the bus). */
  reportCapacity(report: CapacityReport): void {
    if (this.roster.report(report)) this.admission.pump(); // More capacity may let waiters in.
  }

  /** The longest invoke() can take for a function with this timeout: for callers' own deadlines. */
  budgetMs(timeoutMs: number): number {
    return invocationBudgetMs(this.config, timeoutMs);
  }

  stats(): SchedulerStats {
    return { ...this.admission.stats(), liveWorkers: this.roster.liveIds() };
  }

  /** Refuses queued and future invocations; running ones finish. The bus is the caller's to close. */
  close(): void {
    this.admission.close();
    this.lossWatch.close();
  }

  private async dispatch(req: InvocationRequest, signal: AbortSignal | undefined): Promise<InvocationResult> {
    const tried = new Set<string>();
    const failures: string[] = [];
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      signal?.throwIfAborted(); // Nothing has started yet: nobody is waiting for it any more.
      const placement = this.roster.place(req.snapshotKey, tried);
      if (!placement) break;
      const { workerId } = placement;
      tried.add(workerId);
      try {
        const outcome = await this.runOn(workerId, req);
        if (outcome.ran) return outcome.reply;
        lastError = outcome.error;
        failures.push(`${workerId}: ${outcome.error.message}`);
        if (outcome.error instanceof NoRespondersError) this.roster.forget(workerId); // Gone: don't pick it again until it reports.
      } finally {
        placement.release();
      }
    }
    if (tried.size === 0) throw new NoWorkersError('no live worker to place the invocation on: start a worker');
    throw new WorkerUnavailableError(
      `invocation ${req.invocationId} did not start: ${failures.join('; ')} — the workers are gone, full or stuck; retry later`,
      { cause: lastError },
    );
  }

  /**
   * Runs the invocation on one worker (claiming it first when the worker is in another process).
   * Failures before the worker holds the invocation come back as { ran: false } (safe to retry
   * elsewhere); failures after it are thrown, since it may have run.
   */
  private async runOn(workerId: string, req: InvocationRequest): Promise<{ ran: true; reply: InvocationResult } | { ran: false; error: Error }> {
    if (this.channel.claimsFirst) {
      const declined = await this.claim(workerId, req);
      if (declined) return { ran: false, error: declined };
    }
    const runMs = req.limits.timeoutMs + this.config.executionGraceMs;
    const sent = performance.now();
    try {
      const running = withDeadline(this.clock, this.channel.invoke(workerId, req, runMs), runMs, () => new BusTimeoutError(`worker.${workerId}.invoke`, runMs));
      // A worker in another process can die without a word: stop waiting once it falls silent.
      const reply = await (this.channel.claimsFirst ? this.lossWatch.guard(workerId, running, () => this.lost(workerId, req)) : running);
      reply.timings.dispatch = performance.now() - sent;
      return { ran: true, reply };
    } catch (err) {
      // The worker vanished before the request reached it: nothing ran.
      if (err instanceof NoRespondersError) return { ran: false, error: err };
      if (err instanceof BusTimeoutError) {
        throw new WorkerTimeoutError(
          `worker ${workerId} took invocation ${req.invocationId} but did not answer within ${runMs} ms (timeout ${req.limits.timeoutMs} ms + ${this.config.executionGraceMs} ms grace); it may have run`,
          workerId,
          { cause: err },
        );
      }
      // What the function or the worker's VMs did, with its kind: passed on as it is.
      const kinded = kindedError(err);
      if (kinded) throw kinded;
      if (err instanceof RemoteError || err instanceof BusContractError) {
        throw new WorkerFailedError(`worker ${workerId} failed invocation ${req.invocationId}: ${err.message}`, workerId, { cause: err });
      }
      throw err;
    }
  }

  private lost(workerId: string, req: InvocationRequest): WorkerLostError {
    const silentMs = this.config.reportIntervalMs * this.config.staleAfterIntervals;
    this.log({
      level: 'warn',
      msg: 'worker lost while running an invocation: answered 503',
      workerId,
      invocationId: req.invocationId,
      tenant: req.tenant,
      function: req.function,
      silentMs,
    });
    return new WorkerLostError(
      `worker ${workerId} stopped reporting (silent for over ${silentMs} ms, or restarted) while running invocation ${req.invocationId}: it is presumed dead, and the invocation may or may not have run — retry if that is safe`,
      workerId,
    );
  }

  /** Asks a worker in another process to take the invocation; the reason it did not, or undefined. */
  private async claim(workerId: string, req: InvocationRequest): Promise<Error | undefined> {
    const claimMs = this.config.claimTimeoutMs;
    try {
      const claim = await withDeadline(
        this.clock,
        this.channel.claim(
          workerId,
          { invocationId: req.invocationId, snapshotKey: req.snapshotKey, memoryMiB: req.limits.memoryMiB, holdMs: 2 * claimMs },
          claimMs,
        ),
        claimMs,
        () => new BusTimeoutError(`worker.${workerId}.claim`, claimMs),
      );
      return claim.accepted ? undefined : new Error(`declined${claim.reason ? `: ${claim.reason}` : ''}`);
    } catch (err) {
      if (err instanceof BusClosedError || !(err instanceof Error)) throw err;
      return err; // No responder, timeout, a claim handler error: the invocation never left.
    }
  }
}
