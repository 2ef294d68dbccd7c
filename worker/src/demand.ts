/**
 * Recent demand of one function version: invocations in flight now, the peak concurrency over a
 * sliding window (kept as per-bucket maxima, so a burst is remembered for the whole window and then
 * forgotten), and how long the function has been idle. The warm pool is sized from these.
 */
export class DemandTracker {
  private inFlightNow = 0;
  private lastActivity: number;
  /** Peak concurrency per bucket, keyed by bucket start time; only the window's buckets are kept. */
  private readonly buckets = new Map<number, number>();

  constructor(
    now: number,
    readonly windowMs = 10_000,
    readonly bucketMs = 1000,
  ) {
    this.lastActivity = now;
  }

  get inFlight(): number {
    return this.inFlightNow;
  }

  begin(now: number): void {
    this.inFlightNow++;
    this.record(now);
  }

  end(now: number): void {
    this.inFlightNow = Math.max(0, this.inFlightNow - 1);
    this.record(now);
  }

  /** The highest concurrency seen within the window (at least what is in flight now). */
  peak(now: number): number {
    this.forget(now);
    let peak = this.inFlightNow;
    for (const value of this.buckets.values()) peak = Math.max(peak, value);
    return peak;
  }

  /** Milliseconds since the last invocation began or ended; 0 while any is in flight. */
  idleFor(now: number): number {
    return this.inFlightNow > 0 ? 0 : Math.max(0, now - this.lastActivity);
  }

  private record(now: number): void {
    this.lastActivity = now;
    const bucket = now - (now % this.bucketMs);
    this.buckets.set(bucket, Math.max(this.buckets.get(bucket) ?? 0, this.inFlightNow));
    this.forget(now);
  }

  private forget(now: number): void {
    for (const start of this.buckets.keys()) if (start + this.bucketMs <= now - this.windowMs) this.buckets.delete(start);
  }
}
