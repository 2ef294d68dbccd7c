/**
 * The workers this scheduler knows, from their capacity reports, and where to place the next
 * invocation: on a worker with a warm idle VM of the same snapshot if there is one (a warm start
 * skips the restore), otherwise on the least loaded. Reports are seconds old by the time they are
 * used, so the roster also counts what it has placed itself since each report.
 */
import type { Clock } from './clock.js';
import type { CapacityReport } from './contracts.js';

interface WorkerEntry {
  report: CapacityReport;
  /** When this scheduler received the report, on its own clock: worker clocks may be skewed. */
  receivedAt: number;
  /** Bumped by every report; a placement made under an older report no longer affects `taken`. */
  generation: number;
  /** Invocations this scheduler has placed here and not yet finished. */
  running: number;
  /** Warm VMs, per snapshot key, this scheduler has used up since the report. */
  taken: Map<string, number>;
}

/** A worker picked for one invocation; release() once it is over, whatever the outcome. */
export interface Placement {
  workerId: string;
  release(): void;
}

export class Roster {
  private readonly workers = new Map<string, WorkerEntry>();

  constructor(
    private readonly clock: Clock,
    private readonly staleAfterMs: number,
  ) {}

  /** Records a report; returns false for one older than what we have (reports may arrive out of order). */
  report(report: CapacityReport): boolean {
    const known = this.workers.get(report.workerId);
    if (known && report.at < known.report.at) return false;
    this.workers.set(report.workerId, {
      report,
      receivedAt: this.clock.now(),
      generation: (known?.generation ?? 0) + 1,
      running: known?.running ?? 0,
      taken: new Map(),
    });
    return true;
  }

  /** Drops a worker we know is gone; its next report brings it back. */
  forget(workerId: string): void {
    this.workers.delete(workerId);
  }

  /** Whether the worker reported within the staleness window. */
  isLive(workerId: string): boolean {
    const w = this.workers.get(workerId);
    return w !== undefined && this.clock.now() - w.receivedAt <= this.staleAfterMs;
  }

  /** The worker process's incarnation as last reported, if it reports one. */
  incarnation(workerId: string): string | undefined {
    return this.workers.get(workerId)?.report.incarnation;
  }

  liveIds(): string[] {
    return this.live().map(([id]) => id);
  }

  /** How many invocations all live workers can run at once. */
  capacity(): number {
    return this.live().reduce((sum, [, w]) => sum + w.report.vmsMax, 0);
  }

  /** Picks a live worker not in `exclude`, or undefined if there is none. */
  place(snapshotKey: string, exclude: ReadonlySet<string>): Placement | undefined {
    const candidates = this.live().filter(([id]) => !exclude.has(id));
    // Workers that look full may still take it (another scheduler's load may have drained): let
    // their claim decide, but only when nobody has room.
    const open = candidates.filter(([, w]) => busy(w) < w.report.vmsMax);
    const pool = open.length > 0 ? open : candidates;
    const warm = pool.filter(([, w]) => warmIdle(w, snapshotKey) > 0);
    const [chosen] = (warm.length > 0 ? warm : pool).sort(([aId, a], [bId, b]) => load(a) - load(b) || (aId < bId ? -1 : 1));
    if (!chosen) return undefined;
    const [workerId, entry] = chosen;
    const tookWarm = warmIdle(entry, snapshotKey) > 0;
    const generation = entry.generation;
    entry.running++;
    if (tookWarm) entry.taken.set(snapshotKey, (entry.taken.get(snapshotKey) ?? 0) + 1);
    let released = false;
    return {
      workerId,
      release: () => {
        if (released) return;
        released = true;
        const current = this.workers.get(workerId);
        if (!current) return;
        current.running = Math.max(0, current.running - 1);
        // The VM goes back to its pool: warm again, unless a newer report already counted it.
        if (tookWarm && current.generation === generation) {
          current.taken.set(snapshotKey, Math.max(0, (current.taken.get(snapshotKey) ?? 0) - 1));
        }
      },
    };
  }

  private live(): [string, WorkerEntry][] {
    const now = this.clock.now();
    return [...this.workers].filter(([, w]) => now - w.receivedAt <= this.staleAfterMs);
  }
}

/** The larger of what the worker reported busy and what we placed there ourselves. */
function busy(w: WorkerEntry): number {
  const reported = w.report.pools.reduce((sum, p) => sum + p.busy, 0);
  return Math.max(reported, w.running);
}

function load(w: WorkerEntry): number {
  return w.report.vmsMax > 0 ? busy(w) / w.report.vmsMax : Number.POSITIVE_INFINITY;
}

function warmIdle(w: WorkerEntry, snapshotKey: string): number {
  const idle = w.report.pools.find((p) => p.key === snapshotKey)?.idle ?? 0;
  return idle - (w.taken.get(snapshotKey) ?? 0);
}
