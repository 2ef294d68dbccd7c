/**
 * How long a function's invocations take, as a moving average. Used only to guess queue waits, so
 * an invocation that could not start within its budget is refused at once instead of after waiting.
 */

/** Weight of the newest sample: recent enough to follow a deploy, smooth enough to ignore one outlier. */
const ALPHA = 0.2;

export class ServiceTimes {
  private readonly averages = new Map<string, number>();

  observe(key: string, ms: number): void {
    const previous = this.averages.get(key);
    this.averages.set(key, previous === undefined ? ms : previous + ALPHA * (ms - previous));
  }

  /** Undefined until the function has completed an invocation. */
  averageMs(key: string): number | undefined {
    return this.averages.get(key);
  }
}
