/** Latency percentiles over the most recent samples (a bounded ring: old traffic ages out). */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
}

export class LatencyRecorder {
  private readonly samples: number[] = [];
  private next = 0;
  private total = 0;

  constructor(private readonly capacity = 2048) {}

  record(ms: number): void {
    this.total++;
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Nearest-rank percentiles of the kept samples; count is every sample ever recorded. */
  percentiles(): Percentiles {
    if (this.samples.length === 0) return { count: 0, p50: 0, p99: 0 };
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
    return { count: this.total, p50: round(at(0.5)), p99: round(at(0.99)) };
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
