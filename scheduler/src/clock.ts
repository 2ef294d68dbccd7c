/**
 * Time as the scheduler sees it: a monotonic now() and cancellable timers. Injected so tests can
 * drive queue waits, staleness and deadlines by advancing a fake clock instead of sleeping.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (not the epoch): only differences mean anything. */
  now(): number;
  setTimer(ms: number, fire: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fire) {
    const handle = setTimeout(fire, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};
