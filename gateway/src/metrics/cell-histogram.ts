/**
 * A Prometheus histogram whose observations go into label cells (label-cells.ts): an observation
 * is a map lookup, a short scan of the bucket bounds and three adds, with no allocation once its
 * label set was seen. It is registered in a prom-client Registry as a metric of its own (prom-client
 * renders it like its own histograms: _bucket with le, _sum, _count).
 */
import type { Registry } from 'prom-client';
import { type Cell, LabelCells } from './label-cells.js';

interface HistogramCell extends Cell {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class CellHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells: LabelCells<HistogramCell>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    this.cells = new LabelCells<HistogramCell>(labelNames, (labels) => ({ labels, pending: 0, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 }));
    registry.registerMetric(this as never);
  }

  observe(seconds: number, a: string, b?: string, c?: string, d?: string): void {
    const cell = this.cells.at(a, b, c, d);
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    cell.counts[i]!++;
    cell.sum += seconds;
    cell.count++;
  }

  /** What prom-client renders: cumulative buckets, sum and count of each label set. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: unknown[] }> {
    const values: unknown[] = [];
    for (const cell of this.cells.all) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += cell.counts[i]!;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        values.push({ labels: { ...cell.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: cell.labels, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: cell.labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
