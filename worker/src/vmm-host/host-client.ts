/**
 * The worker's handle on one VMM host process: the same operations as the host serves, as
 * promises, each with a request id and a time limit. Replies are validated before use.
 *
 * Crash handling: if the child exits or errors, every call in flight rejects with
 * VmmHostCrashedError and the host is marked dead (later calls reject at once). A host that sends
 * a reply that does not parse, or that misses a deadline, is killed: it can no longer be trusted
 * to hold VMs, and its VMs are then lost like in a crash.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { VmRequest, VmResult } from '@fn/contract';
import { landlockExecPath, probeKvm, scaledTimeout, type VmSnapshot } from '@fn/vmm';
import type { z } from 'zod';
import { VmmHostCrashedError, VmmHostProtocolError, VmmHostStartError, VmmHostTimeoutError } from '../errors.js';
import { defaultHostEntry, type HostEntry } from './host-entry.js';
import { launcherArgs, type HostSandbox } from './host-sandbox.js';
import { HostMessageSchema, ResultSchemas, type HostOp, type HostProbe, type HostStats, type RestoreResult } from './protocol.js';
import type { VmHost } from './vm-host.js';
import type { SnapshotBuildRequest, SnapshotBuildResult } from './snapshot-build.js';
import { fromWireError } from './wire-errors.js';

export interface VmmHostOptions {
  entry?: HostEntry;
  /** How long the child may take to signal readiness. */
  startTimeoutMs?: number;
  /** Time limit for calls other than restore and invoke. */
  callTimeoutMs?: number;
  /** Added to the VM's own time limit for restore and invoke: the host enforces that one itself. */
  graceMs?: number;
  /**
   * Lock the host down once it is set up (host-main.ts, vmm/native/host_lockdown.h): seccomp,
   * no_new_privs, and `memoryMiB` more private memory than it holds at that point. Default: when
   * /dev/kvm is usable (the host will hold KVM VMs), with no memory limit; false: never (a host
   * holding VMs of a child-process backend must start processes).
   */
  lockdown?: false | { memoryMiB?: number; allowFileWrites?: boolean };
  /**
   * Start the host under Landlock through fn-landlock-exec (host-sandbox.ts): it can then read
   * nothing of the data directory but the laid-out snapshots. Only with `lockdown` (KVM hosts).
   */
  sandbox?: HostSandbox;
}

interface Pending {
  op: HostOp;
  vmId: string | undefined;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

type Listener<T> = (value: T) => void;

let nextHostId = 1;

export class VmmHost implements VmHost {
  /** Stable name for metrics and logs (pids are reused). */
  readonly id = `host-${nextHostId++}`;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private deadError: Error | undefined;
  /** The VMs this host holds, vmId → the process holding its guest (the host itself with KVM). */
  private readonly vms = new Map<string, number>();
  /** VMs whose reset after their last invocation has not finished yet (vm-ready clears them). */
  private readonly resetting = new Set<string>();
  private restoring = 0;
  private readonly crashListeners: Listener<Error>[] = [];
  private readonly vmLostListeners: Listener<string>[] = [];
  private readonly vmResetListeners: Listener<number>[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    private readonly options: Required<Omit<VmmHostOptions, 'entry' | 'lockdown' | 'sandbox'>>,
  ) {
    child.on('message', (message: unknown) => this.onMessage(message));
    child.on('exit', (code, signal) => this.die(new VmmHostCrashedError(pid, exitDescription(code, signal, this.pending.size))));
    child.on('error', (err) => this.die(new VmmHostCrashedError(pid, `failed on its IPC channel (${err.message})`, { cause: err })));
  }

  /** Starts a host process and waits until it is ready to serve. */
  static start(options: VmmHostOptions = {}): Promise<VmmHost> {
    const entry = options.entry ?? defaultHostEntry();
    // Defaults stretch with FN_TIMEOUT_SCALE (the nested KVM machine); a caller's own values do not.
    const settings = {
      startTimeoutMs: options.startTimeoutMs ?? scaledTimeout(30_000),
      callTimeoutMs: options.callTimeoutMs ?? scaledTimeout(30_000),
      graceMs: options.graceMs ?? scaledTimeout(10_000),
    };
    const lockdown = options.lockdown ?? (probeKvm().ok ? {} : false);
    const env = { ...process.env, FN_VMM_HOST_LOCKDOWN: lockdown === false ? '0' : JSON.stringify(lockdown) };
    const jailed = lockdown !== false && options.sandbox !== undefined;
    const child = fork(entry.script, [], {
      ...(jailed ? { execPath: landlockExecPath, execArgv: launcherArgs(options.sandbox!, entry.execArgv) } : { execArgv: entry.execArgv }),
      env,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const fail = (why: string, cause?: unknown) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new VmmHostStartError(`the VMM host process (${entry.script}) ${why} — check that the worker is built and that Node can run it`, { cause }));
      };
      const timer = setTimeout(() => fail(`did not signal readiness within ${settings.startTimeoutMs} ms`), settings.startTimeoutMs);
      child.once('error', (err) => fail(`could not be started: ${err.message}`, err));
      child.once('exit', (code, signal) => fail(`exited before it was ready (${signal ?? `code ${code}`})`));
      child.once('message', (message: unknown) => {
        const parsed = HostMessageSchema.safeParse(message);
        if (!parsed.success || parsed.data.type !== 'ready' || child.pid === undefined) {
          fail('sent something other than its ready message first');
          return;
        }
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve(new VmmHost(child, child.pid, settings));
      });
    });
  }

  get alive(): boolean {
    return this.deadError === undefined;
  }

  /** Calls waiting for an answer (invocations and restores in flight). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** VMs held plus VMs being restored: what placement balances. */
  get load(): number {
    return this.vms.size + this.restoring;
  }

  get vmCount(): number {
    return this.vms.size;
  }

  /** False once the VM is closed, lost, or its host is dead. */
  holds(vmId: string): boolean {
    return this.alive && this.vms.has(vmId);
  }

  /** Held and done resetting: an invocation sent to it starts at once. */
  isReady(vmId: string): boolean {
    return this.holds(vmId) && !this.resetting.has(vmId);
  }

  /** Called once if the host dies, with the error its calls failed with. */
  onCrash(listener: Listener<Error>): void {
    this.crashListeners.push(listener);
  }

  /** Called with a vmId the host dropped on its own (its reset failed). */
  onVmReset(listener: Listener<number>): void {
    this.vmResetListeners.push(listener);
  }

  onVmLost(listener: Listener<string>): void {
    this.vmLostListeners.push(listener);
  }

  async restore(snapshot: VmSnapshot, timeoutMs: number): Promise<RestoreResult> {
    this.restoring++;
    try {
      const result = await this.call('restore', { snapshot, timeoutMs }, timeoutMs + this.options.graceMs);
      if (this.alive) this.vms.set(result.vmId, result.pid);
      return result;
    } finally {
      this.restoring--;
    }
  }

  /**
   * Runs one invocation on a VM of this host. After a rejection, holds(vmId) says whether the VM
   * survived (a handler's own error is a 500 result, not a rejection; timeouts, OOM and crashes
   * close the VM).
   */
  async invoke(vmId: string, request: VmRequest, timeoutMs: number): Promise<VmResult> {
    // Until the host says vm-ready, this VM is resetting (or busy): placement prefers others.
    this.resetting.add(vmId);
    const result = await this.call('invoke', { vmId, request }, timeoutMs + this.options.graceMs, vmId);
    // The channel delivers a plain Uint8Array; a Buffer view over the same bytes is friendlier.
    const body = result.response.body;
    result.response.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return result;
  }

  async close(vmId: string): Promise<boolean> {
    this.resetting.delete(vmId);
    if (!this.vms.delete(vmId) || !this.alive) return false;
    return (await this.call('close', { vmId }, this.options.callTimeoutMs)).closed;
  }

  stats(): Promise<HostStats> {
    return this.call('stats', {}, this.options.callTimeoutMs);
  }

  /** Test-only (a host started with FN_VMM_TEST_HOOKS=1): what a taken-over host would try. */
  /** Deploy hosts only (deploy-host.ts): builds a function snapshot into request.scratch. */
  build(request: SnapshotBuildRequest): Promise<SnapshotBuildResult> {
    return this.call('build', { ...request }, request.initTimeoutMs + this.options.graceMs + this.options.callTimeoutMs);
  }

  /** Stops the build writing into `scratch`; false if none was running. */
  async cancel(scratch: string): Promise<boolean> {
    return (await this.call('cancel', { scratch }, this.options.callTimeoutMs)).cancelled;
  }

  probe(what: HostProbe, path?: string): Promise<{ outcome: string }> {
    return this.call('probe', { what, ...(path === undefined ? {} : { path }) }, this.options.callTimeoutMs);
  }

  /** Stops the host: it closes its VMs when its channel closes; killed if it lingers. */
  async shutdown(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.deadError = new VmmHostCrashedError(this.pid, 'was shut down by the worker');
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.rejectAll(this.deadError);
  }

  /** For tests and emergencies: SIGKILL the host process. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  private call<Op extends HostOp>(op: Op, args: object, timeoutMs: number, vmId?: string): Promise<z.output<(typeof ResultSchemas)[Op]>> {
    if (this.deadError) return Promise.reject(this.deadError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new VmmHostTimeoutError(this.pid, op, timeoutMs);
        this.pending.delete(id);
        reject(err);
        this.die(new VmmHostCrashedError(this.pid, `was killed after it did not answer "${op}" within ${timeoutMs} ms`), true);
      }, timeoutMs);
      this.pending.set(id, { op, vmId, resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, op, ...args }, (err) => {
        if (err) this.die(new VmmHostCrashedError(this.pid, `could not be sent a message (${err.message})`, { cause: err }), true);
      });
    });
  }

  private onMessage(raw: unknown): void {
    const parsed = HostMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.violation(`a message that does not parse (${parsed.error.issues[0]?.message ?? 'invalid'})`);
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'ready':
        this.violation('a second ready message');
        return;
      case 'refused':
        this.violation(`a refusal of a request it could not read (${message.error.message})`);
        return;
      case 'vm-lost':
        this.vms.delete(message.vmId);
        this.resetting.delete(message.vmId);
        for (const listener of this.vmLostListeners) listener(message.vmId);
        return;
      case 'vm-ready':
        this.resetting.delete(message.vmId);
        if (message.resetMs !== undefined) for (const listener of this.vmResetListeners) listener(message.resetMs);
        return;
      case 'reply': {
        const call = this.pending.get(message.id);
        if (!call) {
          this.violation(`a reply to request ${message.id}, which is not waiting for one`);
          return;
        }
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        if (!message.ok) {
          if (message.error.vmClosed && call.vmId !== undefined) {
            this.vms.delete(call.vmId);
            this.resetting.delete(call.vmId);
          }
          call.reject(fromWireError(message.error, this.pid));
          return;
        }
        const result = ResultSchemas[call.op].safeParse(message.result);
        if (!result.success) {
          const err = this.violation(`an invalid ${call.op} result (${result.error.issues[0]?.message ?? 'invalid'})`);
          call.reject(err);
          return;
        }
        call.resolve(result.data);
      }
    }
  }

  /** The host broke the protocol: kill it, fail everything in flight. */
  private violation(what: string): Error {
    const err = new VmmHostProtocolError(`the VMM host process (pid ${this.pid}) sent ${what}; it was killed and its VMs are lost — this is a bug in the host`);
    this.die(err, true);
    return err;
  }

  private die(err: Error, kill = false): void {
    if (kill) this.child.kill('SIGKILL');
    if (this.deadError) {
      this.rejectAll(this.deadError);
      return;
    }
    this.deadError = err;
    this.rejectAll(err);
    // A ptrace-VMM child whose host died only notices at its guest's next doorbell; a guest stuck
    // in a loop would keep it alive forever. The pids were reported by the host moments ago.
    for (const pid of this.vms.values()) {
      if (pid === this.pid || pid <= 0) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.vms.clear();
    this.resetting.clear();
    for (const listener of this.crashListeners) listener(err);
  }

  private rejectAll(err: Error): void {
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(err);
    }
    this.pending.clear();
  }
}

function exitDescription(code: number | null, signal: NodeJS.Signals | null, inFlight: number): string {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return `${how} with ${inFlight} call${inFlight === 1 ? '' : 's'} in flight`;
}
