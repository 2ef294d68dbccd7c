/**
 * Puts a Scheduler on the bus: serves scheduler.invoke and listens to every worker's capacity
 * reports. The only place the scheduler meets its transport.
 */
import type { Bus } from './bus/bus.js';
import { SchedulerInvoke, WorkerCapacity } from './contracts.js';
import type { Scheduler } from './scheduler.js';

export interface ServeSchedulerOptions {
  /** Schedulers in one queue group share invocations; each still hears every capacity report. */
  queue?: string;
}

export interface ServedScheduler {
  close(): Promise<void>;
}

export async function serveScheduler(bus: Bus, scheduler: Scheduler, options: ServeSchedulerOptions = {}): Promise<ServedScheduler> {
  // Reports first, so the scheduler knows its workers before the first invocation can reach it.
  const reports = await bus.subscribe(WorkerCapacity, (report) => scheduler.reportCapacity(report));
  const invocations = await bus.serve(SchedulerInvoke, (req) => scheduler.invoke(req), { queue: options.queue ?? 'schedulers' });
  return {
    close: async () => {
      await invocations.unsubscribe();
      await reports.unsubscribe();
    },
  };
}
