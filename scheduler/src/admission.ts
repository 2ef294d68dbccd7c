/**
 * Admission: how many invocations may run at once, and who waits. Three limits apply together —
 * the function's maxConcurrency, the tenant's, and the platform's (the VMs all live workers can
 * hold). Excess invocations wait FIFO per function, in bounded queues, for a bounded time; whatever
 * cannot fit is refused with OverloadedError naming the limit that was in the way.
 */
import type { Clock, Timer } from './clock.js';
import { OverloadedError, SchedulerClosedError, type OverloadScope } from './errors.js';
import type { ServiceTimes } from './service-time.js';

export interface AdmissionOptions {
  clock: Clock;
  tenantMax: (tenant: string) => number;
  /** How many invocations the platform can run now; re-read on every decision. */
  platformCapacity: () => number;
  maxQueueLength: number;
  maxQueuedTotal: number;
  serviceTimes: ServiceTimes;
}

export interface AdmissionRequest {
  tenant: string;
  function: string;
  functionMax: number;
  waitBudgetMs: number;
}

/** Held while an invocation runs; release() exactly once frees its slot (further calls do nothing). */
export interface Permit {
  release(): void;
}

interface Waiter {
  seq: number;
  tenant: string;
  fnKey: string;
  timer: Timer;
  resolve(permit: Permit): void;
  reject(err: Error): void;
}

export class Admission {
  private seq = 0;
  /** Per function, oldest first. A function with nobody waiting has no entry. */
  private readonly queues = new Map<string, Waiter[]>();
  private queued = 0;
  private running = 0;
  private readonly runningByFn = new Map<string, number>();
  private readonly runningByTenant = new Map<string, number>();
  private readonly functionMax = new Map<string, number>();
  private closedWith: Error | undefined;

  constructor(private readonly options: AdmissionOptions) {}

  /**
   * Resolves when the invocation may run; rejects with OverloadedError when it may not wait, or
   * with the signal's reason when the caller gives up while it waits.
   */
  async acquire(req: AdmissionRequest, signal?: AbortSignal): Promise<Permit> {
    if (this.closedWith) throw this.closedWith;
    signal?.throwIfAborted();
    const fnKey = `${req.tenant}/${req.function}`;
    // The latest config wins: a redeploy that changes maxConcurrency applies to the next arrival.
    this.functionMax.set(fnKey, req.functionMax);
    const queue = this.queues.get(fnKey);
    const blocked = this.blockedBy(fnKey, req.tenant);
    // Nobody of this function waits, so running now jumps no one (pump() leaves no admissible head behind).
    if (!queue && blocked === undefined) return this.grant(fnKey, req.tenant);

    // With a queue but no limit in the way, the head is about to be admitted; the wait is the function's.
    const scope = blocked ?? 'function';
    const ahead = queue?.length ?? 0;
    const estimateMs = this.estimateWaitMs(fnKey, ahead);
    if (ahead >= this.options.maxQueueLength) {
      throw overloaded(scope, `${ahead} invocations of ${fnKey} are already waiting (the most allowed)`, estimateMs);
    }
    if (this.queued >= this.options.maxQueuedTotal) {
      throw overloaded('platform', `${this.queued} invocations are already waiting on this scheduler (the most allowed)`, estimateMs);
    }
    if (estimateMs !== undefined && estimateMs > req.waitBudgetMs) {
      throw overloaded(scope, `${fnKey} would wait about ${Math.round(estimateMs)} ms, more than its ${req.waitBudgetMs} ms budget`, estimateMs);
    }
    return new Promise<Permit>((resolve, reject) => {
      const onAbort = (): void => {
        this.dequeue(waiter);
        waiter.timer.cancel();
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        seq: this.seq++,
        tenant: req.tenant,
        fnKey,
        resolve: (permit) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(permit);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        timer: this.options.clock.setTimer(req.waitBudgetMs, () => {
          this.dequeue(waiter);
          const stillBlocked = this.blockedBy(fnKey, req.tenant) ?? scope;
          waiter.reject(overloaded(stillBlocked, `${fnKey} waited ${req.waitBudgetMs} ms in the queue without a free slot`, this.estimateWaitMs(fnKey, 0)));
        }),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const list = queue ?? [];
      list.push(waiter);
      this.queues.set(fnKey, list);
      this.queued++;
    });
  }

  /** Admits waiting invocations, oldest first, while limits allow. Call when capacity may have grown. */
  pump(): void {
    for (;;) {
      let next: Waiter | undefined;
      for (const [fnKey, queue] of this.queues) {
        const head = queue[0]!;
        if ((next === undefined || head.seq < next.seq) && this.blockedBy(fnKey, head.tenant) === undefined) next = head;
      }
      if (!next) return;
      this.dequeue(next);
      next.timer.cancel();
      next.resolve(this.grant(next.fnKey, next.tenant));
    }
  }

  /** Refuses everything waiting and everything that arrives later. */
  close(): void {
    this.closedWith ??= new SchedulerClosedError('the scheduler is shutting down: retry against another scheduler');
    for (const queue of [...this.queues.values()]) {
      for (const waiter of [...queue]) {
        this.dequeue(waiter);
        waiter.timer.cancel();
        waiter.reject(this.closedWith);
      }
    }
  }

  stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.queued };
  }

  /** The first limit an invocation of fnKey would break by starting now, or undefined. */
  private blockedBy(fnKey: string, tenant: string): OverloadScope | undefined {
    if ((this.runningByFn.get(fnKey) ?? 0) >= (this.functionMax.get(fnKey) ?? 1)) return 'function';
    if ((this.runningByTenant.get(tenant) ?? 0) >= this.options.tenantMax(tenant)) return 'tenant';
    if (this.running >= this.options.platformCapacity()) return 'platform';
    return undefined;
  }

  private grant(fnKey: string, tenant: string): Permit {
    bump(this.runningByFn, fnKey, 1);
    bump(this.runningByTenant, tenant, 1);
    this.running++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        bump(this.runningByFn, fnKey, -1);
        bump(this.runningByTenant, tenant, -1);
        this.running--;
        this.pump();
      },
    };
  }

  private dequeue(waiter: Waiter): void {
    const queue = this.queues.get(waiter.fnKey);
    const i = queue?.indexOf(waiter) ?? -1;
    if (!queue || i < 0) return;
    queue.splice(i, 1);
    if (queue.length === 0) this.queues.delete(waiter.fnKey);
    this.queued--;
  }

  /**
   * A rough guess at how long an invocation with `ahead` others in front of it would wait: the
   * queue drains maxConcurrency at a time, each round taking about one average invocation.
   */
  private estimateWaitMs(fnKey: string, ahead: number): number | undefined {
    const average = this.options.serviceTimes.averageMs(fnKey);
    if (average === undefined) return undefined;
    const perRound = this.functionMax.get(fnKey) ?? 1;
    return (Math.floor(ahead / perRound) + 1) * average;
  }
}

function overloaded(scope: OverloadScope, why: string, estimateMs: number | undefined): OverloadedError {
  // At least a second (Retry-After has whole seconds), at most a minute (a guess is no promise).
  const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil((estimateMs ?? 1_000) / 1_000)));
  const limit = { function: "the function's maxConcurrency", tenant: "the tenant's concurrency limit", platform: 'platform capacity' }[scope];
  return new OverloadedError(`overloaded (${limit}): ${why} — retry after ${retryAfterSeconds} s`, retryAfterSeconds, scope);
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}
