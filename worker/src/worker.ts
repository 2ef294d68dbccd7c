/**
 * The worker: runs invocations on warm pools of restored microVMs, one pool per function version,
 * with the VMs spread over several VMM host processes. It keeps a memory budget across pools and,
 * under pressure, evicts idle VMs of the least recently used pools. Placement across workers is
 * the scheduler's job; HTTP is the gateway's.
 *
 *   const worker = await Worker.start({ hosts: 2 });
 *   const { result, cold } = await worker.invoke({ key: digest, snapshot, request: { url: '/' } });
 *   worker.metrics();   // pools, cold/warm counts and latency, hosts
 *   await worker.close();
 */
import { totalmem } from 'node:os';
import type { VmRequest, VmResult } from '@fn/contract';
import { InvalidInputError, probeKvm, toVmRequest, type InvokeRequest, type VmSnapshot } from '@fn/vmm';
import { z } from 'zod';
import { Budget } from './budget.js';
import { systemClock, type Clock } from './clock.js';
import { PoolConfigMismatchError, VmLostError, VmmHostCrashedError, WorkerClosedError } from './errors.js';
import { FunctionPool, type PoolMetrics, type PoolSettings } from './function-pool.js';
import { LatencyRecorder, type Percentiles } from './latency.js';
import type { HostEntry } from './vmm-host/host-entry.js';
import { kvmHostSandbox } from './vmm-host/host-sandbox.js';
import { HostPool, type HostInfo } from './vmm-host/host-pool.js';
import type { HostStats } from './vmm-host/protocol.js';
import { VmSnapshotSchema } from './vmm-host/protocol.js';
import { WorkerSeries } from './worker-metrics.js';

const MiB = 1024 * 1024;

const WorkerOptionsSchema = z
  .object({
    /** VMM host processes (default 2; ~100 VMs each is the sweet spot with KVM). */
    hosts: z.number().int().min(1).max(64).default(2),
    /**
     * Hold VMs in this process instead of VMM host processes: for the ptrace stand-in, whose VMs
     * are processes of their own already (vmm-host/local-host.ts). `hosts` is then ignored.
     */
    inProcessHost: z.boolean().default(false),
    /** Most VMs across all pools (busy, idle and being restored). */
    maxVms: z.number().int().min(1).default(200),
    /** Most guest memory across all VMs (each charged its full size); default 75% of RAM. */
    maxMemoryMiB: z
      .number()
      .int()
      .min(16)
      .default(Math.floor((totalmem() * 0.75) / MiB)),
    /**
     * Most VMs one pool keeps warm. Default: the function's maxConcurrency (PoolTarget), so demand
     * up to the concurrency limit is served warm — a smaller pool restores and discards a VM for
     * every request above it (issue 13, hole 6: 7× less throughput at 9–10 concurrent requests with
     * 8 under a limit of 10); 8 for a target that names no concurrency. Set it to cap every pool.
     */
    maxWarm: z.number().int().min(0).optional(),
    spare: z.number().int().min(0).default(1),
    idleMs: z
      .number()
      .int()
      .min(0)
      .default(5 * 60_000),
    windowMs: z.number().int().min(1).default(10_000),
    refillConcurrency: z.number().int().min(1).default(2),
    tickMs: z.number().int().min(1).default(1000),
    /**
     * The platform's data directory: KVM VMM hosts are then started under Landlock and can read
     * nothing of it but what VMs are restored from (vmm-host/host-sandbox.ts). startPlatform passes it.
     */
    dataDir: z.string().min(1).optional(),
    /** The function's timeout when an invocation names none. */
    defaultTimeoutMs: z.number().int().min(1).default(10_000),
  })
  .strict();

export type WorkerOptions = z.input<typeof WorkerOptionsSchema> & {
  /** Where restores, resets and pool sizes are counted; share it with the Deployer to count its VMs too. */
  series?: WorkerSeries;
  /** Scaling decisions run on this clock (tests pass a manual one). */
  clock?: Clock;
  /** The VMM host script (default: built host-main.js, or the TypeScript source under vitest). */
  hostEntry?: HostEntry;
};

const InvokeInputSchema = z
  .object({
    /** The function version; defaults to the snapshot directory (content-addressed when materialized from the store). */
    key: z.string().min(1).max(512).optional(),
    snapshot: VmSnapshotSchema,
    /** Validated in full by the VM (MicroVM.invoke). */
    request: z.record(z.string(), z.unknown()).optional(),
    timeoutMs: z.number().int().min(1).optional(),
  })
  .strict();

export interface WorkerInvokeInput {
  key?: string;
  snapshot: VmSnapshot;
  request?: InvokeRequest;
  timeoutMs?: number;
}

/** What names a pool: one function version's snapshot, and the timeout its VMs run with. */
export interface PoolTarget {
  key: string;
  snapshot: VmSnapshot;
  timeoutMs: number;
  /** The function's concurrency limit: its pool keeps up to this many VMs warm (unless maxWarm is set). */
  maxConcurrency?: number;
}

/** maxWarm of a pool whose target names no concurrency limit, when the worker sets none. */
const DEFAULT_MAX_WARM = 8;

export interface WorkerInvokeResult {
  /** The VM's answer; its timings carry this worker's hops too (worker, hostCall, restore). */
  result: VmResult;
  /** True when no warm VM was available and one was restored for this invocation. */
  cold: boolean;
  vmId: string;
  /** The VMM host process that ran it. */
  hostPid: number;
  durations: { acquireMs: number; restoreMs?: number; invokeMs: number; totalMs: number };
}

export interface WorkerMetrics {
  pools: PoolMetrics[];
  invocations: { cold: number; warm: number; failed: number };
  latencyMs: { cold: Percentiles; warm: Percentiles };
  hosts: HostInfo[];
  budget: { vms: number; memoryMiB: number; maxVms: number; maxMemoryMiB: number };
  evictions: number;
  hostCrashes: number;
}

export class Worker {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly budget: Budget;
  private readonly latency = { cold: new LatencyRecorder(), warm: new LatencyRecorder() };
  private readonly counts = { cold: 0, warm: 0, failed: 0 };
  private evictions = 0;
  private hostCrashes = 0;
  private closed = false;
  private readonly settings: PoolSettings;
  /** Each pool's own settings (its maxWarm follows its function's concurrency limit). */
  private readonly poolSettings = new WeakMap<FunctionPool, PoolSettings>();

  private constructor(
    private readonly hosts: HostPool,
    private readonly options: z.output<typeof WorkerOptionsSchema>,
    private readonly clock: Clock,
    /** Prometheus series of this worker (worker-metrics.ts); they travel with its capacity reports. */
    readonly series: WorkerSeries,
  ) {
    series.readFrom(() => this.metrics());
    hosts.onVmReset((ms) => series.reset(ms));
    this.budget = new Budget({ maxVms: options.maxVms, maxMemoryMiB: options.maxMemoryMiB });
    const { spare, idleMs, windowMs, refillConcurrency, tickMs } = options;
    this.settings = { maxWarm: options.maxWarm ?? DEFAULT_MAX_WARM, spare, idleMs, windowMs, refillConcurrency, tickMs };
    hosts.onHostCrash(() => {
      this.hostCrashes++;
      // Idle VMs on that host are gone: drop them and let each pool refill on the live hosts.
      for (const pool of this.pools.values()) pool.sweep();
    });
  }

  static async start(options: WorkerOptions = {}): Promise<Worker> {
    const { clock, hostEntry, series, ...rest } = options;
    const parsed = WorkerOptionsSchema.safeParse(rest);
    if (!parsed.success) throw new InvalidInputError(`invalid worker options: ${z.prettifyError(parsed.error)}`);
    // Each host may map guest memory up to the worker's whole budget (placement could put every VM
    // on one host) plus 512 MiB for itself; past that a restore fails with ENOMEM, not the machine.
    const lockdown = probeKvm().ok ? { memoryMiB: parsed.data.maxMemoryMiB + 512 } : false;
    const hosts = await HostPool.start({
      size: parsed.data.hosts,
      inProcess: parsed.data.inProcessHost,
      lockdown,
      ...(lockdown && parsed.data.dataDir ? { sandbox: kvmHostSandbox(parsed.data.dataDir) } : {}),
      ...(hostEntry ? { entry: hostEntry } : {}),
    });
    return new Worker(hosts, parsed.data, clock ?? systemClock, series ?? new WorkerSeries());
  }

  /**
   * Runs one invocation on a warm VM of the function, or a freshly restored one (cold). The input
   * is checked here: this is the worker's API for callers that build it by hand.
   */
  async invoke(input: WorkerInvokeInput): Promise<WorkerInvokeResult> {
    const parsed = InvokeInputSchema.safeParse(input);
    if (!parsed.success) throw new InvalidInputError(`invalid invocation: ${z.prettifyError(parsed.error)}`);
    const { snapshot } = parsed.data;
    const target = { key: parsed.data.key ?? snapshot.dir, snapshot, timeoutMs: parsed.data.timeoutMs ?? this.options.defaultTimeoutMs };
    return this.run(target, toVmRequest(input.request ?? {}));
  }

  /**
   * invoke() for a request of the invocation contract's form, already checked (or built by fn
   * itself): the bus endpoint's path. The request object goes to the VMM host as it is.
   */
  async run(target: PoolTarget, request: VmRequest): Promise<WorkerInvokeResult> {
    const { key, snapshot, timeoutMs } = target;
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      const pool = this.poolFor(key, snapshot, timeoutMs, target.maxConcurrency);
      let acquired;
      try {
        acquired = await pool.acquire();
      } catch (err) {
        // A host that died during this request's restore ran none of it: retry once elsewhere.
        if (err instanceof VmmHostCrashedError && attempt === 0) continue;
        this.counts.failed++;
        throw err;
      }
      const { vm, cold, restoreMs } = acquired;
      const invokeStarted = performance.now();
      let result: VmResult;
      try {
        result = await vm.host.invoke(vm.vmId, request, timeoutMs);
      } catch (err) {
        pool.release(vm);
        // The VM vanished before the invocation reached it (a failed reset): nothing ran, retry once.
        if (err instanceof VmLostError && attempt === 0) continue;
        this.counts.failed++;
        throw err;
      }
      pool.release(vm);
      const done = performance.now();
      const totalMs = done - started;
      this.counts[cold ? 'cold' : 'warm']++;
      this.latency[cold ? 'cold' : 'warm'].record(totalMs);
      result.timings.hostCall = done - invokeStarted;
      result.timings.worker = totalMs;
      if (restoreMs !== undefined) result.timings.restore = restoreMs;
      return {
        result,
        cold,
        vmId: vm.vmId,
        hostPid: vm.host.pid,
        durations: { acquireMs: invokeStarted - started, ...(restoreMs !== undefined ? { restoreMs } : {}), invokeMs: done - invokeStarted, totalMs },
      };
    }
  }

  metrics(): WorkerMetrics {
    return {
      pools: [...this.pools.values()].map((p) => p.metrics()),
      invocations: { ...this.counts },
      latencyMs: { cold: this.latency.cold.percentiles(), warm: this.latency.warm.percentiles() },
      hosts: this.hosts.list(),
      budget: { vms: this.budget.vms, memoryMiB: this.budget.memoryMiB, maxVms: this.options.maxVms, maxMemoryMiB: this.options.maxMemoryMiB },
      evictions: this.evictions,
      hostCrashes: this.hostCrashes,
    };
  }

  /** Each live host's own view: VMs held and resident memory (asks the host processes). */
  hostStats(): Promise<HostStats[]> {
    return Promise.all(this.hosts.live.map((h) => h.stats()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
    await this.hosts.close();
  }

  private poolFor(key: string, snapshot: VmSnapshot, timeoutMs: number, maxConcurrency: number | undefined): FunctionPool {
    if (this.closed) throw new WorkerClosedError();
    const maxWarm = this.options.maxWarm ?? maxConcurrency ?? DEFAULT_MAX_WARM;
    const existing = this.pools.get(key);
    if (existing) {
      if (!sameSnapshot(existing.snapshot, snapshot) || existing.timeoutMs !== timeoutMs) {
        throw new PoolConfigMismatchError(
          `pool "${key}" serves ${existing.snapshot.dir} with a ${existing.timeoutMs} ms timeout, but this invocation names ${snapshot.dir} with ${timeoutMs} ms — a key must identify one function version; use a new key for a new version`,
        );
      }
      // Versions that share a snapshot share its pool: it follows the largest concurrency limit.
      const settings = this.poolSettings.get(existing)!;
      if (maxWarm > settings.maxWarm) settings.maxWarm = maxWarm;
      return existing;
    }
    const settings = { ...this.settings, maxWarm };
    const pool = new FunctionPool(key, snapshot, timeoutMs, settings, {
      hosts: this.hosts,
      clock: this.clock,
      restored: (reason, ms) => this.series.restored(reason, ms),
      reserve: (p, purpose) => this.reserve(p, purpose),
      unreserve: (p) => this.budget.give(p.snapshot.memoryMiB),
      onEmpty: (p) => {
        // Scaled to zero: forget the pool so idle function versions cost nothing at all.
        if (this.pools.get(p.key) === p) this.pools.delete(p.key);
        p.close();
      },
    });
    this.pools.set(key, pool);
    this.poolSettings.set(pool, settings);
    return pool;
  }

  /**
   * Room for one more VM of `pool`. Under pressure, idle VMs of the least recently used pools are
   * evicted; a refill may only evict from pools used less recently than its own, while a cold
   * request (someone is waiting) may evict from any other pool.
   */
  private reserve(pool: FunctionPool, purpose: 'cold' | 'refill'): boolean {
    const mib = pool.snapshot.memoryMiB;
    if (!this.budget.fits(mib)) {
      const victims = [...this.pools.values()]
        .filter((p) => p !== pool && p.idleCount > 0 && (purpose === 'cold' || p.recency < pool.recency))
        .sort((a, b) => a.recency - b.recency);
      for (const victim of victims) {
        while (!this.budget.fits(mib) && victim.evictOne()) this.evictions++;
        if (this.budget.fits(mib)) break;
      }
      if (!this.budget.fits(mib)) return false;
    }
    this.budget.take(mib);
    return true;
  }
}

function sameSnapshot(a: VmSnapshot, b: VmSnapshot): boolean {
  return a.dir === b.dir && a.platform === b.platform && a.memoryMiB === b.memoryMiB && (a.baseMemoryPath ?? '') === (b.baseMemoryPath ?? '');
}
