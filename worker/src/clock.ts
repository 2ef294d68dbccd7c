/**
 * Time as the pools see it. Scaling decisions (demand windows, idle timeouts, refill scheduling)
 * go through this interface so tests can drive them with a manual clock instead of sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Whatever the clock's setTimeout returns; only handed back to its clearTimeout. */
export type TimerHandle = unknown;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const t = setTimeout(callback, ms);
    // Pool maintenance must never keep a process alive on its own.
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
