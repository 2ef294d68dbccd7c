/**
 * The gateway's Prometheus series (prom-client), and the one place /metrics is rendered from.
 *
 *   fn_invocations_total{tenant,function,status,start}   every synchronous or queued invocation;
 *                                                        status: ok | <failure kind> | internal | queued,
 *                                                        start: cold | warm | none (never reached a VM)
 *   fn_invocation_duration_seconds{tenant,function,start} time on the worker, cold and warm apart
 *   fn_invocation_errors_total{kind}                     failures by kind (@fn/contract) + internal
 *   fn_throttled_total{tenant,function}                  429s (over a concurrency limit or queue)
 *   fn_scheduler_queue_depth                             invocations waiting for admission (the
 *                                                        scheduler in this process, or the sum the
 *                                                        live --role schedulers report)
 *
 * Workers' own series (pools, VM restores, resets, creates: worker/src/worker-metrics.ts) arrive
 * with their capacity reports as prom-client JSON; each gets a `worker` label and is rendered here.
 *
 * Counting sits on the invocation path, so it is a label lookup and an add: counters count into
 * cells found through nested maps (label-cells.ts: no allocation once a label set was seen) and
 * are handed to prom-client at scrape time; latencies go into histogram cells the same way
 * (cell-histogram.ts).
 */
import { type Cell, LabelCells } from './label-cells.js';
import { CellHistogram } from './cell-histogram.js';
import { AggregatorRegistry, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** One worker's series as prom-client's getMetricsAsJSON() gives them. */
export interface WorkerSeries {
  workerId: string;
  metrics: unknown[];
}

export interface MetricSources {
  /** The latest series of every live worker. */
  workers?: () => WorkerSeries[];
  /** Invocations waiting in the schedulers' admission queues. */
  queueDepth?: () => number;
}

/** Latency buckets in seconds: a warm invocation takes about a millisecond, a cold one a few. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type StartLabel = 'cold' | 'warm' | 'none';

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly invocations = new LabelCells(['tenant', 'function', 'status', 'start']);
  private readonly errors = new LabelCells(['kind']);
  private readonly throttled = new LabelCells(['tenant', 'function']);
  private readonly duration: CellHistogram;
  private sources: MetricSources;

  constructor(sources: MetricSources = {}) {
    this.sources = sources;
    const registers = [this.registry];
    countedFrom(this.invocations, {
      name: 'fn_invocations_total',
      help: 'Invocations by tenant, function, outcome (ok or the failure kind) and start (cold, warm, none)',
      labelNames: ['tenant', 'function', 'status', 'start'],
      registers,
    });
    this.duration = new CellHistogram(
      'fn_invocation_duration_seconds',
      'Time an invocation took on its worker, cold and warm starts apart',
      ['tenant', 'function', 'start'],
      DURATION_BUCKETS,
      this.registry,
    );
    countedFrom(this.errors, { name: 'fn_invocation_errors_total', help: 'Failed invocations by failure kind', labelNames: ['kind'], registers });
    countedFrom(this.throttled, {
      name: 'fn_throttled_total',
      help: 'Invocations refused with 429 (over a concurrency limit or a full queue)',
      labelNames: ['tenant', 'function'],
      registers,
    });
    const self = this;
    new Gauge({
      name: 'fn_scheduler_queue_depth',
      help: "Invocations waiting in the schedulers' admission queues",
      registers,
      collect() {
        const depth = self.sources.queueDepth;
        if (depth) this.set(depth());
      },
    });
  }

  /** Where worker series and queue depth come from; set once the platform has started them. */
  setSources(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** One invocation's outcome; `seconds` when it ran on a VM. */
  invocation(tenant: string, fn: string, status: string, start: StartLabel, seconds: number | undefined): void {
    this.invocations.at(tenant, fn, status, start).pending++;
    if (seconds !== undefined && start !== 'none') this.duration.observe(seconds, tenant, fn, start);
  }

  failure(tenant: string, fn: string, kind: string): void {
    this.errors.at(kind).pending++;
    if (kind === 'overloaded') this.throttled.at(tenant, fn).pending++;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition: the gateway's series, then every live worker's with its `worker` label. */
  async render(): Promise<string> {
    const own = await this.registry.getMetricsAsJSON();
    const workers = this.sources.workers?.() ?? [];
    if (workers.length === 0) return this.registry.metrics();
    const labelled = workers.map((w) => withWorkerLabel(w));
    // aggregate() merges series of one name; the worker label keeps every worker's values apart.
    return AggregatorRegistry.aggregate([own, ...labelled] as MetricObjectWithValues<MetricValue<string>>[][]).metrics();
  }
}

/** A prom-client counter that takes what its cells counted since the last scrape. */
function countedFrom(cells: LabelCells, config: { name: string; help: string; labelNames: string[]; registers: Registry[] }): Counter<string> {
  return new Counter({
    ...config,
    collect() {
      for (const cell of cells.all as Cell[]) {
        if (cell.pending === 0) continue;
        this.inc(cell.labels, cell.pending);
        cell.pending = 0;
      }
    },
  });
}

function withWorkerLabel(series: WorkerSeries): unknown[] {
  return series.metrics.flatMap((m) => {
    const metric = m as { name?: unknown; values?: unknown };
    if (typeof metric.name !== 'string' || !metric.name.startsWith('fn_') || !Array.isArray(metric.values)) return [];
    const values = metric.values.map((v: { labels?: Record<string, unknown> }) => ({ ...v, labels: { ...v.labels, worker: series.workerId } }));
    return [{ ...metric, aggregator: 'sum', values }];
  });
}
