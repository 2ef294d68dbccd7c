/**
 * Several VMM host processes. KVM's per-process costs grow with the VMs one process holds
 * (DESIGN.md §1: spread them, ~100 per process), and a host that crashes takes only its own VMs
 * with it. New VMs go to the least-loaded live host; a host that dies is replaced right away
 * (retrying with a growing delay while replacements fail to start).
 *
 * `inProcess: true` holds the VMs in this process instead (local-host.ts): for backends whose VMs
 * are processes of their own (ptrace, process), where a host process only adds an IPC hop.
 */
import type { VmSnapshot } from '@fn/vmm';
import { VmmHostStartError, WorkerClosedError } from '../errors.js';
import { VmmHost, type VmmHostOptions } from './host-client.js';
import { LocalHost } from './local-host.js';
import type { VmHost } from './vm-host.js';
import type { RestoreResult } from './protocol.js';

export interface HostPoolOptions extends VmmHostOptions {
  /** Number of host processes (default 2). Size it so each holds on the order of 100 VMs. */
  size?: number;
  /** Hold VMs in this process, with no host process (see the header comment). */
  inProcess?: boolean;
  /** First delay before retrying a host that failed to start; doubles up to 30 s. */
  restartDelayMs?: number;
}

export interface HostInfo {
  id: string;
  pid: number;
  alive: boolean;
  vms: number;
  inFlight: number;
}

export type HostCrashListener = (host: VmHost, err: Error) => void;

export class HostPool {
  private readonly hosts: VmHost[] = [];
  /** Replacements being started; placement waits for one when no host is live. */
  private readonly starting = new Set<Promise<VmHost | undefined>>();
  private readonly crashListeners: HostCrashListener[] = [];
  private readonly resetListeners: ((resetMs: number) => void)[] = [];
  private closed = false;
  /** Hosts started since this pool was made, replacements included. */
  started = 0;

  private constructor(private readonly options: HostPoolOptions) {}

  static async start(options: HostPoolOptions = {}): Promise<HostPool> {
    const pool = new HostPool(options);
    if (options.inProcess) {
      pool.hosts.push(pool.watched(new LocalHost()));
      return pool;
    }
    const size = options.size ?? 2;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a host pool needs at least one host, not ${size}`);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.add()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Called each time a VM on any host is back at its snapshot after an invocation (metrics). */
  onVmReset(listener: (resetMs: number) => void): void {
    this.resetListeners.push(listener);
  }

  private watched<H extends VmHost>(host: H): H {
    host.onVmReset((ms) => {
      for (const listener of this.resetListeners) listener(ms);
    });
    return host;
  }

  /** Called when a host dies: its VMs are gone (in-flight calls already rejected). */
  onHostCrash(listener: HostCrashListener): void {
    this.crashListeners.push(listener);
  }

  /** Restores a VM on the least-loaded live host. */
  async restore(snapshot: VmSnapshot, timeoutMs: number): Promise<{ host: VmHost; vm: RestoreResult }> {
    // Chosen and charged (host.restore counts itself as load) in the same tick, so concurrent
    // placements see each other.
    const host = this.leastLoaded() ?? (await this.waitForHost());
    return { host, vm: await host.restore(snapshot, timeoutMs) };
  }

  list(): HostInfo[] {
    return this.hosts.map((h) => ({ id: h.id, pid: h.pid, alive: h.alive, vms: h.vmCount, inFlight: h.inFlight }));
  }

  /** Live hosts, for stats and tests. */
  get live(): readonly VmHost[] {
    return this.hosts.filter((h) => h.alive);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting]);
    await Promise.all(this.hosts.splice(0).map((h) => h.shutdown()));
  }

  private leastLoaded(): VmHost | undefined {
    if (this.closed) throw new WorkerClosedError();
    let best: VmHost | undefined;
    for (const h of this.hosts) if (h.alive && (!best || h.load < best.load)) best = h;
    return best;
  }

  /** Every host is dead: wait for a replacement. */
  private async waitForHost(): Promise<VmHost> {
    for (;;) {
      if (this.starting.size === 0)
        throw new VmmHostStartError('no VMM host process is running and none is starting — the worker is shutting down or hosts keep failing to start');
      await Promise.race(this.starting);
      const host = this.leastLoaded();
      if (host) return host;
    }
  }

  private async add(): Promise<VmmHost> {
    const host = await VmmHost.start(this.options);
    this.started++;
    if (this.closed) {
      await host.shutdown();
      throw new WorkerClosedError();
    }
    host.onCrash((err) => this.onCrash(host, err));
    this.hosts.push(this.watched(host));
    return host;
  }

  private onCrash(host: VmHost, err: Error): void {
    const at = this.hosts.indexOf(host);
    if (at >= 0) this.hosts.splice(at, 1);
    for (const listener of this.crashListeners) listener(host, err);
    if (!this.closed) this.replace();
  }

  private replace(): void {
    const attempt = (async () => {
      let delay = this.options.restartDelayMs ?? 100;
      while (!this.closed) {
        try {
          return await this.add();
        } catch (err) {
          if (this.closed) return undefined;
          process.emitWarning(`fn worker: a replacement VMM host failed to start (${(err as Error).message}); retrying in ${delay} ms`);
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 30_000);
        }
      }
      return undefined;
    })();
    this.starting.add(attempt);
    void attempt.finally(() => this.starting.delete(attempt));
  }
}
