/**
 * A scheduler on an InProcessBus with fake workers on another connection, driven by a fake clock.
 * By default the bus behaves like a wire (workers "in other processes": claimed first, every
 * message checked); `sameProcess: true` gives the direct bus of the one-machine platform.
 */
import { InProcessBus, InProcessHub } from '../bus/in-process.js';
import type { SchedulerConfig } from '../config.js';
import type { InvocationRequest, InvocationResult } from '@fn/contract';
import { Scheduler } from '../scheduler.js';
import { FakeClock, flush } from './fake-clock.js';
import { FakeWorker } from './fake-worker.js';

export interface Harness {
  clock: FakeClock;
  /** For tests that put their own half-broken worker on the bus. */
  hub: InProcessHub;
  scheduler: Scheduler;
  workers: Record<string, FakeWorker>;
  /** Starts an invocation and tracks how it settles, without awaiting it. */
  invoke(req: InvocationRequest & { signal?: AbortSignal }): Tracked;
  close(): Promise<void>;
}

export interface Tracked {
  readonly state: 'pending' | 'fulfilled' | 'rejected';
  readonly reply: InvocationResult | undefined;
  readonly error: unknown;
  readonly promise: Promise<InvocationResult>;
}

export async function harness(config: Partial<SchedulerConfig> & { workers?: string[]; sameProcess?: boolean } = {}): Promise<Harness> {
  const { workers: ids = ['w1'], sameProcess = false, ...rest } = config;
  const clock = new FakeClock();
  const hub = new InProcessHub();
  const schedulerBus = new InProcessBus({ hub, wire: !sameProcess });
  const workerBus = new InProcessBus({ hub, wire: !sameProcess });
  const scheduler = new Scheduler({ bus: schedulerBus, clock, ...rest });
  const workers: Record<string, FakeWorker> = {};
  for (const id of ids) {
    workers[id] = await FakeWorker.start(workerBus, id);
    scheduler.reportCapacity(workers[id].report());
  }
  return {
    clock,
    hub,
    scheduler,
    workers,
    invoke(req) {
      const tracked = { state: 'pending', reply: undefined, error: undefined } as { -readonly [K in keyof Tracked]: Tracked[K] };
      tracked.promise = scheduler.invoke(req);
      tracked.promise.then(
        (reply) => Object.assign(tracked, { state: 'fulfilled', reply }),
        (error: unknown) => Object.assign(tracked, { state: 'rejected', error }),
      );
      return tracked;
    },
    async close() {
      scheduler.close();
      for (const w of Object.values(workers)) w.finishAll();
      await flush();
      await Promise.all([schedulerBus.close(), workerBus.close()]);
    },
  };
}
