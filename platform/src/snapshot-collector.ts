/**
 * When the snapshot store's garbage is collected on one machine: at startup, after a function is
 * deleted, and again once the grace period has passed over garbage that was too young to remove
 * (the store keeps anything modified within it, so a deploy in progress is never collected).
 * Runs never overlap: a request during a run starts one more run after it.
 */
import type { Registry } from '@fn/registry';
import type { GcReport } from '@fn/snapshots';
import type { Deployer } from '@fn/worker';
import type { Logger, SourceMaps } from '@fn/gateway';

export class SnapshotCollector {
  private running: Promise<GcReport> | undefined;
  private next: Promise<GcReport> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly registry: Registry,
    private readonly deployer: Deployer,
    private readonly graceMs: number,
    private readonly logger: Logger,
    /** The gateway's source maps: a map goes with the last version that references its bundle. */
    private readonly sourceMaps?: SourceMaps,
  ) {}

  /** Asks for a collection (in the background); failures are logged, never thrown. */
  collect(): void {
    this.run().catch((error: unknown) => this.logger({ level: 'warn', msg: 'snapshot garbage collection failed', error: (error as Error).message }));
  }

  /** One collection, after the one running now if any; resolves with its report. */
  run(): Promise<GcReport> {
    if (this.running) {
      // The registry may have changed after the running one read it: one more run covers every asker.
      const after = this.running.catch(() => undefined);
      return (this.next ??= after.then(() => {
        this.next = undefined;
        return this.run();
      }));
    }
    const running = this.once().finally(() => (this.running = undefined));
    this.running = running;
    return running;
  }

  /** Stops scheduling; waits for a run in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.running?.catch(() => undefined);
  }

  private async once(): Promise<GcReport> {
    const keep = { snapshots: this.registry.referencedSnapshotDigests(), blobs: this.registry.referencedBundleDigests() };
    const report = await this.deployer.collectGarbage(keep);
    // Synchronous, as is a deploy's map put + createVersion (deploy.ts): no deploy falls in between.
    this.sourceMaps?.prune(this.registry.referencedBundleDigests());
    if (report.removed.length > 0) this.logger({ level: 'info', msg: 'snapshot garbage collected', blobs: report.removed.length, deferred: report.deferred });
    if (report.deferred > 0 && !this.closed && this.retry === undefined) {
      // Garbage too young to remove now: look again once the grace period has passed over it.
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.collect();
      }, this.graceMs + 1000);
      this.retry.unref();
    }
    return report;
  }
}
