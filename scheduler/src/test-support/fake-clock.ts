import type { Clock, Timer } from '../clock.js';

/** A clock that only moves when told: queue waits, staleness and deadlines without sleeping. */
export class FakeClock implements Clock {
  private time = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fire: () => void): Timer {
    const entry = { at: this.time + Math.max(0, ms), seq: this.seq++, fire };
    this.timers.push(entry);
    return { cancel: () => void (this.timers = this.timers.filter((t) => t !== entry)) };
  }

  /** Moves time forward, firing due timers in order and letting the reactions to each settle. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fire();
      await flush();
    }
    this.time = target;
    await flush();
  }
}

/** Lets pending promise reactions and in-process bus deliveries run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
