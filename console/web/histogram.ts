/**
 * The latency histogram's numbers (pure, unit-tested in node; charts.ts draws them). Bins are
 * logarithmic: cold starts and warm invocations differ by an order of magnitude or more, and one
 * linear axis would squash the warm ones into the first bar.
 */
export interface Sample {
  ms: number;
  cold: boolean;
}

export interface Histogram {
  /** bins + 1 edges, ascending, in ms. */
  edges: number[];
  cold: number[];
  warm: number[];
}

const FLOOR_MS = 0.05;

export function histogram(samples: readonly Sample[], bins = 12): Histogram {
  const values = samples.map((s) => Math.max(FLOOR_MS, s.ms)).filter(Number.isFinite);
  if (values.length === 0) return { edges: [], cold: [], warm: [] };
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  // One value, or all alike: a range around it, so it sits in a middle bar.
  if (hi / lo < 1.5) {
    lo /= 1.5;
    hi *= 1.5;
  }
  const logLo = Math.log(lo);
  const step = (Math.log(hi) - logLo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => Math.exp(logLo + step * i));
  const cold = new Array<number>(bins).fill(0);
  const warm = new Array<number>(bins).fill(0);
  for (const s of samples) {
    const v = Math.max(FLOOR_MS, s.ms);
    if (!Number.isFinite(v)) continue;
    const i = Math.min(bins - 1, Math.max(0, Math.floor((Math.log(v) - logLo) / step)));
    (s.cold ? cold : warm)[i]! += 1;
  }
  return { edges, cold, warm };
}

/** The median of each kind, for the chart's legend; null when there is none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
