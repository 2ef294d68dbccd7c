/**
 * Pool sizes over time, for the console: the workers already publish their pools (idle and busy
 * VMs per snapshot key) every second on worker.<id>.capacity; the platform hands each report to
 * record() and the console reads a function's recent samples back. Nothing here is durable: it is
 * a small ring buffer per pool key, gone at restart, like a `top` for pools.
 *
 * Several workers report one key independently, so the sample kept for a key is the sum over the
 * workers' latest reports, taken at each report. Times are the receiver's clock: workers' clocks
 * may disagree, and the console draws one time axis.
 */

/** One worker's capacity report, as much of it as the history needs (the scheduler's contract). */
export interface PoolReportInput {
  workerId: string;
  pools: readonly { key: string; idle: number; busy: number }[];
}

export interface PoolSample {
  /** ms since the epoch, when the report arrived. */
  at: number;
  idle: number;
  busy: number;
}

/** What the gateway reads: the platform owns the history and feeds it. */
export interface PoolHistoryView {
  /** How often samples arrive (the workers' report interval), for the chart's axis. */
  readonly intervalMs: number;
  /**
   * The summed samples of these keys (one function's versions) since `since`, oldest first: at
   * each time any of them changed, the total of every key's latest sample.
   */
  samples(keys: Iterable<string>, since?: number): PoolSample[];
  /** The newest totals of these keys; zeros when none is held. */
  current(keys: Iterable<string>): { idle: number; busy: number };
}

export interface PoolHistoryOptions {
  /** Samples kept per key (default 600: ten minutes at one report a second). */
  samplesPerKey?: number;
  /** Keys remembered at once (default 5,000); past it the key updated longest ago is forgotten. */
  maxKeys?: number;
  intervalMs?: number;
  now?: () => number;
}

interface KeyHistory {
  /** Per worker: its latest figures for this key. */
  byWorker: Map<string, { idle: number; busy: number }>;
  /** A ring of samples, `start` the oldest. */
  ring: PoolSample[];
  start: number;
}

export class PoolHistory implements PoolHistoryView {
  readonly intervalMs: number;
  private readonly samplesPerKey: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Insertion order = least recently updated first (a key is re-inserted when it updates). */
  private readonly keys = new Map<string, KeyHistory>();
  /** Per worker: the keys it reported last time, so a pool that disappears is recorded as 0. */
  private readonly lastKeysOf = new Map<string, Set<string>>();

  constructor(options: PoolHistoryOptions = {}) {
    this.samplesPerKey = Math.max(2, options.samplesPerKey ?? 600);
    this.maxKeys = Math.max(1, options.maxKeys ?? 5_000);
    this.intervalMs = options.intervalMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  record(report: PoolReportInput): void {
    const at = this.now();
    const seen = new Set<string>();
    for (const pool of report.pools) {
      seen.add(pool.key);
      this.update(pool.key, report.workerId, { idle: pool.idle, busy: pool.busy }, at);
    }
    // A pool the worker no longer holds (evicted, or its VMs all gone) drops to zero once.
    for (const key of this.lastKeysOf.get(report.workerId) ?? []) if (!seen.has(key)) this.update(key, report.workerId, null, at);
    this.lastKeysOf.set(report.workerId, seen);
  }

  samples(keys: Iterable<string>, since = 0): PoolSample[] {
    const histories = [...new Set(keys)].map((k) => this.keys.get(k)).filter((h): h is KeyHistory => h !== undefined);
    const series = histories.map((h) => ordered(h).filter((s) => s.at >= since));
    if (series.length === 1) return series[0]!;
    // Step functions summed: at each time a key changed, every key's latest value counts.
    const times = [...new Set(series.flatMap((s) => s.map((p) => p.at)))].sort((a, b) => a - b);
    const cursor = series.map(() => -1);
    return times.map((at) => {
      let idle = 0;
      let busy = 0;
      series.forEach((s, i) => {
        while (cursor[i]! + 1 < s.length && s[cursor[i]! + 1]!.at <= at) cursor[i]! += 1;
        const p = s[cursor[i]!];
        if (p) {
          idle += p.idle;
          busy += p.busy;
        }
      });
      return { at, idle, busy };
    });
  }

  current(keys: Iterable<string>): { idle: number; busy: number } {
    let idle = 0;
    let busy = 0;
    for (const key of new Set(keys)) {
      const h = this.keys.get(key);
      const latest = h && h.ring.length > 0 ? h.ring[(h.start + h.ring.length - 1) % h.ring.length] : undefined;
      if (latest) {
        idle += latest.idle;
        busy += latest.busy;
      }
    }
    return { idle, busy };
  }

  private update(key: string, workerId: string, figures: { idle: number; busy: number } | null, at: number): void {
    let h = this.keys.get(key);
    if (h) this.keys.delete(key);
    else h = { byWorker: new Map(), ring: [], start: 0 };
    this.keys.set(key, h);
    if (figures) h.byWorker.set(workerId, figures);
    else h.byWorker.delete(workerId);
    let idle = 0;
    let busy = 0;
    for (const f of h.byWorker.values()) {
      idle += f.idle;
      busy += f.busy;
    }
    push(h, { at, idle, busy }, this.samplesPerKey);
    while (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }
}

function push(h: KeyHistory, sample: PoolSample, capacity: number): void {
  // Reports of several workers in one instant replace each other: one sample per time.
  const newest = h.ring.length > 0 ? h.ring[(h.start + h.ring.length - 1) % h.ring.length] : undefined;
  if (newest && newest.at === sample.at) {
    newest.idle = sample.idle;
    newest.busy = sample.busy;
    return;
  }
  if (h.ring.length < capacity) h.ring.push(sample);
  else {
    h.ring[h.start] = sample;
    h.start = (h.start + 1) % capacity;
  }
}

function ordered(h: KeyHistory): PoolSample[] {
  return [...h.ring.slice(h.start), ...h.ring.slice(0, h.start)].map((s) => ({ ...s }));
}
