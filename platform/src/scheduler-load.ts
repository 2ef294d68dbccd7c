/**
 * Schedulers in their own processes (`fn up --role scheduler`) publish their admission queues'
 * depth every report interval on scheduler.<id>.load; gateways add up the live ones for
 * fn_scheduler_queue_depth. (In one process the gateway reads its scheduler directly.)
 */
import { type Bus, type Scheduler, SchedulerLoad, type SchedulerLoadReport, type Subscription } from '@fn/scheduler';

/** Starts publishing; returns how to stop. */
export function publishSchedulerLoad(bus: Bus, scheduler: Scheduler, schedulerId: string, everyMs: number): () => void {
  const report = () => {
    const { queued, running } = scheduler.stats();
    // A report that cannot be sent (the bus is closing) is simply the last one.
    bus.publish(SchedulerLoad, { schedulerId, queued, running, at: Date.now() }, { subject: `scheduler.${schedulerId}.load` }).catch(() => {});
  };
  report();
  const timer = setInterval(report, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export class SchedulerLoads {
  private readonly latest = new Map<string, { report: SchedulerLoadReport; receivedAt: number }>();
  private subscription: Subscription | undefined;

  private constructor(private readonly staleAfterMs: number) {}

  static async watch(bus: Bus, staleAfterMs: number): Promise<SchedulerLoads> {
    const loads = new SchedulerLoads(staleAfterMs);
    loads.subscription = await bus.subscribe(SchedulerLoad, (report) => void loads.latest.set(report.schedulerId, { report, receivedAt: Date.now() }));
    return loads;
  }

  /** Invocations waiting for admission across the live schedulers. */
  queued(): number {
    const cutoff = Date.now() - this.staleAfterMs;
    let total = 0;
    for (const [id, entry] of this.latest) {
      if (entry.receivedAt < cutoff) this.latest.delete(id);
      else total += entry.report.queued;
    }
    return total;
  }

  async close(): Promise<void> {
    await this.subscription?.unsubscribe();
  }
}
