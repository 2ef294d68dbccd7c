/**
 * Invocations running on workers in other processes, watched for their worker going silent. A
 * worker that dies (kill -9, a lost machine, a partition) never answers, and NATS does not tell a
 * requester that the responder's connection is gone: without this, its invocations would wait out
 * their whole timeout. The roster decides liveness from capacity reports; every report interval
 * the watch fails the invocations of workers that are no longer live, or whose process changed
 * (restarted under the same id faster than it could go stale).
 */
import type { Clock, Timer } from './clock.js';

export class LossWatch {
  /** Per worker: each guarded invocation's check, run every interval. */
  private readonly watched = new Map<string, Set<() => boolean>>();
  private timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly isLive: (workerId: string) => boolean,
    /** The worker's current process (see CapacityReport.incarnation): a change means the old one died. */
    private readonly incarnation: (workerId: string) => string | undefined = () => undefined,
  ) {}

  /** `work`, or a rejection with onLost() as soon as the worker is found silent. */
  guard<T>(workerId: string, work: Promise<T>, onLost: () => Error): Promise<T> {
    const startedOn = this.incarnation(workerId);
    return new Promise<T>((resolve, reject) => {
      // True (and rejected) once the worker is silent, or is another process than the one it started on.
      const lost = (): boolean => {
        if (this.isLive(workerId) && this.incarnation(workerId) === startedOn) return false;
        reject(onLost());
        return true;
      };
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
        for (const lost of [...set]) if (lost()) set.delete(lost);
        if (set.size === 0) this.watched.delete(workerId);
      }
      this.schedule();
    });
  }
}
