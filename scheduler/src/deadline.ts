import type { Clock } from './clock.js';

/**
 * Settles with `work`, or rejects with onTimeout() after `ms` on the injected clock — whichever is
 * first. Transports have their own timers; this one makes the scheduler's deadlines follow its
 * clock, so tests drive them by advancing a fake clock. `work` keeps its handlers either way, so
 * a late rejection is never unhandled.
 */
export function withDeadline<T>(clock: Clock, work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(ms, () => reject(onTimeout()));
    work.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (err: unknown) => {
        timer.cancel();
        reject(err);
      },
    );
  });
}
