/**
 * --compare <baseline.json>: the change of each figure against a saved run, with a noise band in
 * the manner of Firecracker's A/B tests. The run is made of several rounds, each measuring every
 * system in turn (interleaved: A B C A B C, so a slow minute of a shared machine hits them all);
 * the noise of a figure is the half-spread of its per-round values relative to their median. A
 * change inside the larger of the two runs' noise is reported as noise. It informs and never fails.
 */
import { median } from './stats.js';

/** The figures compared: latencies (lower is better) and throughput (higher is better). */
export const COMPARED = [
  'fn_warm_ms_p50',
  'fn_cold_ms_p50',
  'fn_deploy_to_first_ms',
  'inprocess_ms_p50',
  'node_process_ms_p50',
  'crun_ms_p50',
  'runc_ms_p50',
  'runsc_ms_p50',
  'cold_over_crun',
  'cold_over_runsc',
  'warm_over_inprocess',
  'fn_rps',
] as const;
const HIGHER_IS_BETTER = new Set(['fn_rps']);

type Figures = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Per figure, the half-spread of its per-round values over their median (0.05 = ±5%). */
export function noiseOf(rounds: Figures[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of COMPARED) {
    const values = rounds.map((r) => num(r[key])).filter((v): v is number => v !== null);
    if (values.length < 2) continue;
    const mid = median(values);
    if (mid > 0) out[key] = (Math.max(...values) - Math.min(...values)) / 2 / mid;
  }
  return out;
}

export interface Change {
  key: string;
  baseline: number | null;
  now: number | null;
  /** (now − baseline) / baseline */
  change: number | null;
  /** The band a change must leave to count: the larger noise of the two runs. */
  noise: number | null;
  verdict: 'better' | 'worse' | 'within noise' | 'no noise band (one round)' | 'not measured';
}

export function compare(baseline: Figures, now: Figures): Change[] {
  const baseNoise = (baseline.noise ?? {}) as Record<string, number>;
  const nowNoise = (now.noise ?? {}) as Record<string, number>;
  return COMPARED.map((key) => {
    const b = num(baseline[key]);
    const n = num(now[key]);
    if (b === null || n === null || b === 0) return { key, baseline: b, now: n, change: null, noise: null, verdict: 'not measured' };
    const change = (n - b) / b;
    const bands = [baseNoise[key], nowNoise[key]].filter((v): v is number => typeof v === 'number');
    const noise = bands.length > 0 ? Math.max(...bands) : null;
    if (noise === null) return { key, baseline: b, now: n, change, noise, verdict: 'no noise band (one round)' };
    if (Math.abs(change) <= noise) return { key, baseline: b, now: n, change, noise, verdict: 'within noise' };
    const improved = HIGHER_IS_BETTER.has(key) ? change > 0 : change < 0;
    return { key, baseline: b, now: n, change, noise, verdict: improved ? 'better' : 'worse' };
  });
}

const pct = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);

export function compareTable(changes: Change[]): string {
  const rows = changes.map(
    (c) =>
      `| ${c.key} | ${c.baseline ?? '—'} | ${c.now ?? '—'} | ${pct(c.change)} | ${c.noise === null ? '—' : `±${(c.noise * 100).toFixed(1)}%`} | ${c.verdict} |`,
  );
  return ['| figure | baseline | now | change | noise | verdict |', '|---|---:|---:|---:|---:|---|', ...rows].join('\n');
}
