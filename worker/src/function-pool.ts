/**
 * The warm pool of one function version: restored VMs (on VMM hosts) that wait idle between
 * invocations. Sized by recent demand, between 0 and maxWarm:
 *
 *   target = 0                                  after idleMs without invocations (scale to zero)
 *          = min(maxWarm, max(peak, 1) + spare) otherwise; peak = highest concurrency in the window
 *
 * (a function in use keeps at least one VM until it goes idle, however sparse its traffic)
 *
 * acquire() hands out an idle VM (warm) or restores one for this request (cold). Among idle VMs it
 * takes the most recently used one whose reset has finished; one still resetting only when no
 * other is ready (waiting out a reset is still far cheaper than a restore). Everything else —
 * refilling up to the target, trimming above it, scaling to zero — happens in maintain(), which
 * runs from timers, never on a request's path, and refills wait while a cold start is in flight. A VM that died (timeout, OOM, crash, lost host) is
 * dropped and never handed out again.
 */
import type { VmSnapshot } from '@fn/vmm';
import type { Clock, TimerHandle } from './clock.js';
import { DemandTracker } from './demand.js';
import { WorkerAtCapacityError, WorkerClosedError } from './errors.js';
import type { VmHost } from './vmm-host/vm-host.js';
import type { HostPool } from './vmm-host/host-pool.js';

export interface PoolSettings {
  /** Most VMs (idle + busy) the pool keeps warm; demand beyond it is served cold. */
  maxWarm: number;
  /** Idle VMs kept above the recent peak, so the next extra concurrent request is warm too. */
  spare: number;
  /** No invocation for this long: close every idle VM. */
  idleMs: number;
  /** How long a burst keeps the pool at its size. */
  windowMs: number;
  /** Background restores in flight at once, per pool. */
  refillConcurrency: number;
  /** How often an active pool re-evaluates its target (window decay, idle timeout). */
  tickMs: number;
}

export interface PoolDeps {
  hosts: HostPool;
  clock: Clock;
  /** Counts a restore and its duration (the worker's series); optional for tests that build pools by hand. */
  restored?(reason: 'cold' | 'refill', ms: number): void;
  /** Reserves budget for one more VM of this pool, evicting other pools' idle VMs if allowed. */
  reserve(pool: FunctionPool, purpose: 'cold' | 'refill'): boolean;
  /** Returns the budget of one VM of this pool. */
  unreserve(pool: FunctionPool): void;
  /** The pool scaled to zero and holds nothing: the worker may drop it. */
  onEmpty(pool: FunctionPool): void;
}

export interface VmHandle {
  readonly host: VmHost;
  readonly vmId: string;
  /** The process holding the guest (the host itself with KVM). */
  readonly pid: number;
  lastUsed: number;
}

export interface Acquired {
  vm: VmHandle;
  cold: boolean;
  /** Time the cold restore took inside the host. */
  restoreMs?: number;
}

export interface PoolMetrics {
  key: string;
  idle: number;
  busy: number;
  /** Restores in flight (cold requests and refills). */
  starting: number;
  target: number;
  refillFailures: number;
}

/** Global order of use across pools: least recently used pools are evicted first. */
let useSequence = 0;
const REFILL_BACKOFF_MAX_MS = 30_000;

export class FunctionPool {
  /** Idle VMs, least recently used first (trimmed from the front, handed out from the back). */
  private readonly idle: VmHandle[] = [];
  private readonly busy = new Set<VmHandle>();
  private coldStarting = 0;
  private refilling = 0;
  private readonly demand: DemandTracker;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private refillBackoffMs = 0;
  private refillNotBefore = 0;
  private refillFailures = 0;
  private closed = false;
  /** Position in the global use order (higher = used more recently). */
  recency = ++useSequence;

  constructor(
    readonly key: string,
    readonly snapshot: VmSnapshot,
    readonly timeoutMs: number,
    private readonly settings: PoolSettings,
    private readonly deps: PoolDeps,
  ) {
    this.demand = new DemandTracker(deps.clock.now(), settings.windowMs, Math.max(1, Math.min(1000, settings.windowMs / 10)));
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** A VM for one invocation: an idle one (warm), or one restored now for this request (cold). */
  async acquire(): Promise<Acquired> {
    if (this.closed) throw new WorkerClosedError();
    this.demand.begin(this.deps.clock.now());
    this.recency = ++useSequence;
    this.schedule(0); // demand changed: the refill decision is taken off this path
    const warm = this.takeIdle();
    if (warm) {
      this.busy.add(warm);
      return { vm: warm, cold: false };
    }
    try {
      if (!this.deps.reserve(this, 'cold')) throw new WorkerAtCapacityError(`no room for another ${this.snapshot.memoryMiB} MiB VM and no idle VM to evict`);
      this.coldStarting++;
      let placed: Awaited<ReturnType<HostPool['restore']>>;
      try {
        placed = await this.deps.hosts.restore(this.snapshot, this.timeoutMs);
      } catch (err) {
        this.deps.unreserve(this);
        throw err;
      } finally {
        this.coldStarting--;
      }
      const vm: VmHandle = { host: placed.host, vmId: placed.vm.vmId, pid: placed.vm.pid, lastUsed: this.deps.clock.now() };
      if (this.closed) {
        this.discard(vm);
        throw new WorkerClosedError();
      }
      this.busy.add(vm);
      this.deps.restored?.('cold', placed.vm.restoreMs);
      return { vm, cold: true, restoreMs: placed.vm.restoreMs };
    } catch (err) {
      this.demand.end(this.deps.clock.now());
      throw err;
    }
  }

  /**
   * The idle VM to use: the most recently used ready one, else the most recently used one still
   * resetting; VMs that are gone are dropped on the way.
   */
  private takeIdle(): VmHandle | undefined {
    let fallback: VmHandle | undefined;
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const vm = this.idle[i]!;
      if (!vm.host.holds(vm.vmId)) {
        this.idle.splice(i, 1);
        this.discard(vm);
      } else if (vm.host.isReady(vm.vmId)) {
        this.idle.splice(i, 1);
        return vm;
      } else {
        fallback ??= vm;
      }
    }
    if (fallback) this.idle.splice(this.idle.indexOf(fallback), 1);
    return fallback;
  }

  /** Gives a VM back after its invocation; a VM that did not survive it is dropped. */
  release(vm: VmHandle): void {
    const now = this.deps.clock.now();
    this.demand.end(now);
    this.busy.delete(vm);
    vm.lastUsed = now;
    if (!this.closed && vm.host.holds(vm.vmId)) this.idle.push(vm);
    else this.discard(vm);
    this.schedule(0);
  }

  /** Closes the least recently used idle VM (budget pressure from another pool). */
  evictOne(): boolean {
    const vm = this.idle.shift();
    if (!vm) return false;
    this.discard(vm);
    this.schedule(0);
    return true;
  }

  /** A host died or dropped a VM: forget idle VMs that are gone, and rebuild in the background. */
  sweep(): void {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const vm = this.idle[i]!;
      if (!vm.host.holds(vm.vmId)) {
        this.idle.splice(i, 1);
        this.discard(vm);
      }
    }
    this.schedule(0);
  }

  target(now = this.deps.clock.now()): number {
    if (this.demand.inFlight === 0 && this.demand.idleFor(now) >= this.settings.idleMs) return 0;
    return Math.min(this.settings.maxWarm, Math.max(1, this.demand.peak(now)) + this.settings.spare);
  }

  metrics(): PoolMetrics {
    return {
      key: this.key,
      idle: this.idle.length,
      busy: this.busy.size,
      starting: this.coldStarting + this.refilling,
      target: this.target(),
      refillFailures: this.refillFailures,
    };
  }

  /** Closes idle VMs now; busy ones are closed when their invocations end. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const vm of this.idle.splice(0)) this.discard(vm);
  }

  /** Brings the pool towards its target: trims idle VMs above it, refills below it. */
  private maintain(): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    const target = this.target(now);
    const total = () => this.idle.length + this.busy.size + this.coldStarting + this.refilling;
    while (this.idle.length > 0 && total() > target) this.discard(this.idle.shift()!);
    // A refill started while a request waits for its own (cold) restore would compete with it for
    // the CPU — on a small host that doubles the cold start. It waits for the cold start's
    // release(), which runs maintain() again.
    while (total() < target && this.coldStarting === 0 && this.refilling < this.settings.refillConcurrency && now >= this.refillNotBefore) {
      if (!this.deps.reserve(this, 'refill')) break;
      this.refilling++;
      void this.refillOne();
    }
    if (total() === 0 && target === 0) {
      this.deps.onEmpty(this);
      return; // nothing to watch until the next invocation
    }
    this.schedule(this.settings.tickMs);
  }

  private async refillOne(): Promise<void> {
    try {
      const placed = await this.deps.hosts.restore(this.snapshot, this.timeoutMs);
      const vm: VmHandle = { host: placed.host, vmId: placed.vm.vmId, pid: placed.vm.pid, lastUsed: this.deps.clock.now() };
      this.refillBackoffMs = 0;
      this.deps.restored?.('refill', placed.vm.restoreMs);
      if (this.closed) this.discard(vm);
      else this.idle.unshift(vm); // never used: first in line for trimming
    } catch {
      // A snapshot that cannot be restored must not turn into a restore loop: back off. Requests
      // still get cold restores and see the error themselves.
      this.deps.unreserve(this);
      this.refillFailures++;
      this.refillBackoffMs = Math.min(REFILL_BACKOFF_MAX_MS, Math.max(this.settings.tickMs, this.refillBackoffMs * 2));
      this.refillNotBefore = this.deps.clock.now() + this.refillBackoffMs;
    } finally {
      this.refilling--;
      this.schedule(0);
    }
  }

  private discard(vm: VmHandle): void {
    this.deps.unreserve(this);
    vm.host.close(vm.vmId).catch(() => {
      // The host died meanwhile: the VM went with it.
    });
  }

  /** Runs maintain() in `ms` (keeping an earlier pending run). */
  private schedule(ms: number): void {
    if (this.closed) return;
    const at = this.deps.clock.now() + ms;
    if (this.timer !== undefined) {
      if (this.timerAt <= at) return;
      this.deps.clock.clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.maintain();
    }, ms);
  }
}
