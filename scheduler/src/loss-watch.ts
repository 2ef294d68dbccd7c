/**
 * Invocations running on workers in other processes, watched for their worker going silent. A
 * worker that dies (kill -9, a lost machine, a partition) never answers, and NATS does not tell a
 * requester that the responder's connection is gone: without this, its invocations would wait out
 * their whole timeout. The roster decides liveness from capacity reports; every report interval
 * the watch fails the invocations of workers that are no longer live.
 */
import type { Clock, Timer } from './clock.js';

export class LossWatch {
  private readonly watched = new Map<string, Set<() => void>>();
  private timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly isLive: (workerId: string) => boolean,
  ) {}

  /** `work`, or a rejection with onLost() as soon as the worker is found silent. */
  guard<T>(workerId: string, work: Promise<T>, onLost: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const lost = (): void => reject(onLost());
      const set = this.watched.get(workerId) ?? new Set();
      set.add(lost);
      this.watched.set(workerId, set);
      this.schedule();
      const done = (): void => {
        set.delete(lost);
        if (set.size === 0 && this.watched.get(workerId) === set) this.watched.delete(workerId);
      };
      work.then(
        (value) => (done(), resolve(value)),
        (err: unknown) => (done(), reject(err)),
      );
    });
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.watched.size === 0) return;
    this.timer = this.clock.setTimer(this.everyMs, () => {
      this.timer = undefined;
      for (const [workerId, set] of [...this.watched]) {
        if (this.isLive(workerId)) continue;
        this.watched.delete(workerId);
        for (const lost of set) lost();
      }
      this.schedule();
    });
  }
}
