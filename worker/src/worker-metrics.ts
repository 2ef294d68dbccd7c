/**
 * A worker's Prometheus series (prom-client), in a registry of its own: they travel to the gateway
 * with the worker's capacity reports (bus-endpoint.ts) and are rendered there with a `worker` label.
 *
 *   fn_vm_restores_total / fn_vm_restore_duration_seconds{reason}   a pool restored a VM from its
 *                                   function's snapshot: for a waiting request (cold) or ahead of one (refill)
 *   fn_vm_resets_total / fn_vm_reset_duration_seconds               a VM put back to its snapshot after
 *                                   an invocation (off the reply path)
 *   fn_vm_creates_total / fn_vm_create_duration_seconds{purpose}    a VM built for a deploy: the runtime's
 *                                   base snapshot (base) or a function's init (deploy)
 *   fn_pool_vms{pool,state}         VMs of each pool: idle, busy, starting (pool: the version's snapshot digest)
 *   fn_worker_vms, fn_worker_vms_max, fn_worker_memory_mib   the worker's budget (gauges)
 *   fn_worker_evictions_total, fn_worker_host_crashes_total  what it cost (counters)
 *
 * The _total counters are the histograms' counts under their own names, so a dashboard need not know.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerMetrics } from './worker.js';

const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export type RestoreReason = 'cold' | 'refill';
export type CreatePurpose = 'base' | 'deploy';

export class WorkerSeries {
  readonly registry = new Registry();
  private readonly restores: Counter<'reason'>;
  private readonly restoreSeconds: Histogram<'reason'>;
  private readonly resets: Counter;
  private readonly resetSeconds: Histogram;
  private readonly creates: Counter<'purpose'>;
  private readonly createSeconds: Histogram<'purpose'>;
  private figures: (() => WorkerMetrics) | undefined;

  constructor() {
    const registers = [this.registry];
    this.restores = new Counter({ name: 'fn_vm_restores_total', help: 'VMs restored from a function snapshot', labelNames: ['reason'], registers });
    this.restoreSeconds = new Histogram({
      name: 'fn_vm_restore_duration_seconds',
      help: 'Time to restore a VM from its snapshot',
      labelNames: ['reason'],
      buckets: SECONDS,
      registers,
    });
    this.resets = new Counter({ name: 'fn_vm_resets_total', help: 'VMs reset to their snapshot after an invocation', registers });
    this.resetSeconds = new Histogram({
      name: 'fn_vm_reset_duration_seconds',
      help: "Time from an invocation's answer until its VM is back at its snapshot",
      buckets: SECONDS,
      registers,
    });
    this.creates = new Counter({
      name: 'fn_vm_creates_total',
      help: 'VMs created for a deploy (base snapshot or a function init)',
      labelNames: ['purpose'],
      registers,
    });
    this.createSeconds = new Histogram({
      name: 'fn_vm_create_duration_seconds',
      help: 'Time to create a VM for a deploy, until it is ready to snapshot',
      labelNames: ['purpose'],
      buckets: SECONDS,
      registers,
    });
    const self = this;
    new Gauge({
      name: 'fn_pool_vms',
      help: "VMs of each pool by state (pool: the function version's snapshot digest)",
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        this.reset(); // pools that scaled to zero drop out
        for (const p of self.figures?.().pools ?? []) {
          this.labels(p.key, 'idle').set(p.idle);
          this.labels(p.key, 'busy').set(p.busy);
          this.labels(p.key, 'starting').set(p.starting);
        }
      },
    });
    const gauge = (name: string, help: string, read: (m: WorkerMetrics) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const m = self.figures?.();
          if (m) this.set(read(m));
        },
      });
    gauge('fn_worker_vms', 'VMs the worker holds (idle, busy and starting)', (m) => m.budget.vms);
    gauge('fn_worker_vms_max', 'Most VMs the worker may hold', (m) => m.budget.maxVms);
    gauge('fn_worker_memory_mib', 'Guest memory charged to the VMs the worker holds', (m) => m.budget.memoryMiB);
    // The worker keeps these counts itself; as counters they are read from it at each report.
    const counted = (name: string, help: string, read: (m: WorkerMetrics) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const m = self.figures?.();
          if (!m) return;
          this.reset();
          this.inc(read(m));
        },
      });
    counted('fn_worker_evictions_total', 'Idle VMs evicted under memory or VM pressure', (m) => m.evictions);
    counted('fn_worker_host_crashes_total', 'VMM host processes that died', (m) => m.hostCrashes);
  }

  /** Where the pool and budget gauges read from (the Worker, once it exists). */
  readFrom(figures: () => WorkerMetrics): void {
    this.figures = figures;
  }

  restored(reason: RestoreReason, ms: number): void {
    this.restores.labels(reason).inc();
    this.restoreSeconds.labels(reason).observe(ms / 1000);
  }

  reset(ms: number): void {
    this.resets.inc();
    this.resetSeconds.observe(ms / 1000);
  }

  created(purpose: CreatePurpose, ms: number): void {
    this.creates.labels(purpose).inc();
    this.createSeconds.labels(purpose).observe(ms / 1000);
  }

  /**
   * prom-client's JSON form: what a capacity report carries. A copy: prom-client hands out its live
   * counter entries, and a report held by the gateway must keep the values it was sent with.
   */
  async json(): Promise<unknown[]> {
    return structuredClone(await this.registry.getMetricsAsJSON());
  }
}
