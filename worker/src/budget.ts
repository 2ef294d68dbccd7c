/**
 * The worker's memory budget: VMs and MiB across all pools. A VM is charged its full guest memory
 * size: an invocation may dirty all of it, so that is what the machine must be able to hold, even
 * though idle clones of one snapshot share most pages in the page cache.
 */
export interface BudgetLimits {
  maxVms: number;
  maxMemoryMiB: number;
}

export class Budget {
  vms = 0;
  memoryMiB = 0;

  constructor(readonly limits: BudgetLimits) {}

  fits(memoryMiB: number): boolean {
    return this.vms + 1 <= this.limits.maxVms && this.memoryMiB + memoryMiB <= this.limits.maxMemoryMiB;
  }

  take(memoryMiB: number): void {
    this.vms++;
    this.memoryMiB += memoryMiB;
  }

  give(memoryMiB: number): void {
    this.vms = Math.max(0, this.vms - 1);
    this.memoryMiB = Math.max(0, this.memoryMiB - memoryMiB);
  }
}
