/**
 * Deploys in flight per tenant, bounded: a deploy boots a VM and runs the function's init, so one
 * tenant firing many at once would take cores from everyone's invocations (issue 13, hole 4). Over
 * the bound a deploy answers 429 with Retry-After before anything is read into a VM.
 */
import { OverloadedError } from '@fn/contract';

export class DeploySlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perTenant: number) {}

  /** Takes a slot for `tenant` or throws OverloadedError; call the returned function when done. */
  take(tenant: string): () => void {
    const n = this.inFlight.get(tenant) ?? 0;
    if (n >= this.perTenant) {
      throw new OverloadedError(
        `tenant "${tenant}" already has ${n} deploys in progress (at most ${this.perTenant} at once) — wait for one to finish and retry`,
        5,
        'tenant',
      );
    }
    this.inFlight.set(tenant, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(tenant) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(tenant);
      else this.inFlight.set(tenant, left);
    };
  }
}
