/**
 * What the gateway knows of the workers: the latest capacity report of each (worker.*.capacity,
 * published every second by every worker, wherever it runs). It feeds /metrics (each worker's
 * series, carried in its report) and /readyz (a live worker with a base snapshot). A worker whose
 * reports stopped for staleAfterMs is gone: its series and its readiness go with it.
 */
import type { CheckResult, WorkerSeries } from '@fn/gateway';
import { WorkerCapacity, type Bus, type CapacityReport, type Subscription } from '@fn/scheduler';

export interface WorkerReportsOptions {
  /** Default 3 s: three missed reports at the default interval, as the scheduler counts them. */
  staleAfterMs?: number;
  /** Also hands each report on as it arrives (the console's pool history): one subscription for all. */
  onReport?: (report: CapacityReport) => void;
}

export class WorkerReports {
  private readonly latest = new Map<string, { report: CapacityReport; receivedAt: number }>();

  private constructor(
    private readonly subscription: Subscription,
    private readonly staleAfterMs: number,
  ) {}

  static async watch(bus: Bus, options: WorkerReportsOptions = {}): Promise<WorkerReports> {
    let reports: WorkerReports | undefined;
    const early: CapacityReport[] = [];
    const subscription = await bus.subscribe(WorkerCapacity, (report) => {
      options.onReport?.(report);
      if (reports) reports.take(report);
      else early.push(report);
    });
    reports = new WorkerReports(subscription, options.staleAfterMs ?? 3_000);
    for (const report of early) reports.take(report);
    return reports;
  }

  /** Every live worker's Prometheus series. */
  series(): WorkerSeries[] {
    return this.live().flatMap((r) => (r.series ? [{ workerId: r.workerId, metrics: r.series }] : []));
  }

  /** /readyz: ready once a live worker has a base snapshot. */
  readiness(): CheckResult {
    const live = this.live();
    if (live.length === 0)
      return { ok: false, reason: `no worker has reported in the last ${this.staleAfterMs} ms — start one (fn up, or fn up --role worker)` };
    if (!live.some((r) => r.baseReady === true))
      return { ok: false, reason: `${live.length} worker(s) up, none with a base snapshot yet — it is being made (or deploy once to make it)` };
    return { ok: true };
  }

  close(): Promise<void> {
    return this.subscription.unsubscribe();
  }

  private take(report: CapacityReport): void {
    const known = this.latest.get(report.workerId);
    // Reports of one worker arrive in order on one bus; `at` guards against a replayed older one.
    if (known && known.report.incarnation === report.incarnation && known.report.at > report.at) return;
    this.latest.set(report.workerId, { report, receivedAt: Date.now() });
  }

  private live(): CapacityReport[] {
    const cutoff = Date.now() - this.staleAfterMs;
    const live: CapacityReport[] = [];
    for (const [id, entry] of this.latest) {
      if (entry.receivedAt >= cutoff) live.push(entry.report);
      else this.latest.delete(id);
    }
    return live;
  }
}
