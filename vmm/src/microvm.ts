/**
 * MicroVM: one kernel-less guest running one function. The public TypeScript API of the core:
 *
 *   const vm = await MicroVM.boot({ memoryMiB: 64, timeoutMs: 5000 });
 *   await vm.load(bundleSource, { name: 'hello', env: {} });
 *   const { response, logs, timings } = await vm.invoke({ method: 'GET', url: '/' });
 *   vm.close();
 *
 * Everything is validated here before it reaches a transport. A VM runs one call at a time; after
 * a timeout, a crash or an out-of-memory it is discarded (closed) and the caller boots a new one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestElfPath } from '@fn/guest';
import { GuestCommand, GuestEvent, GuestStatus } from './abi.js';
import { GuestCrashedError, GuestLoadError, GuestOutOfMemoryError, InvalidInputError, VmBusyError, VmClosedError, VmSnapshotError } from './errors.js';
import { KvmTransport } from './kvm-transport.js';
import { decodeInvokeOutput, encodeMetaAndBytes, parseJsonOutput } from './payload.js';
import { ProcessTransport } from './process-transport.js';
import { processSandboxSpec, ptraceSpec } from './child-specs.js';
import { choosePlatform } from './platform-choice.js';
import { sharedLauncher } from './ptrace-launcher.js';
import { BootOptionsSchema, LoadOptionsSchema, LoadOutputSchema, type BootOptions, type InvokeRequest, type LoadOptions, type LogEntry } from './schemas.js';
import type { ExchangeResult, GuestTransport, Platform, ResetInfo } from './transport.js';
import { checkResponseLimits, type VmRequest } from '@fn/contract';
import { parseOrThrow } from './parse.js';
import { toVmRequest } from './request-input.js';

export interface InvokeResult {
  response: { status: number; headers: [string, string][]; body: Buffer };
  logs: LogEntry[];
  /** Set when the handler threw: its name, message and stack (the response is then a 500). */
  error?: { name: string; message: string; stack?: string | undefined };
  timings: { totalUs: number; guestUs: number };
  memory: { heapUsedBytes: number; heapPeakBytes: number };
}

/**
 * A snapshot on disk, as MicroVM.snapshot() wrote it: the files in `dir` (cpu.bin, memory.img,
 * pages.bin), and what a restore needs to know. Plain data: it can be stored and sent.
 */
export interface VmSnapshot {
  platform: Platform;
  dir: string;
  memoryMiB: number;
  /** memory.img of the base layer when this snapshot is a diff over it. */
  baseMemoryPath?: string | undefined;
  /** The function loaded when the snapshot was taken (absent for a base snapshot). */
  functionName?: string | undefined;
  pages: number;
  diffPages: number;
  ms: number;
}

let elfCache: Buffer | undefined;
/** Invocations of every MicroVM in this process between their command and its answer. */
let invocationsInFlight = 0;

export class MicroVM {
  private busy = false;
  private closedReason: string | undefined;
  private loaded = false;
  private functionName = 'function';
  /** Set once the VM has a snapshot to return to (taken or restored from). */
  private hasSnapshot = false;
  /** The reset after the last invocation; the next call waits for it. */
  private pendingReset: Promise<ResetInfo> | undefined;
  /**
   * Return to the snapshot after every invocation (the default once a snapshot exists): no
   * invocation ever sees another's state. Turn off only to observe state across invocations.
   */
  resetAfterInvoke = true;
  /** The last completed reset, for metrics. */
  lastReset: ResetInfo | undefined;

  private constructor(
    private readonly transport: GuestTransport,
    readonly memoryMiB: number,
    readonly timeoutMs: number,
    /** Milliseconds from the call to boot() until the runtime signalled READY. */
    readonly bootMs: number,
  ) {}

  /** Creates the VM and runs the guest runtime until it is ready for a function. */
  static async boot(options: BootOptions = {}): Promise<MicroVM> {
    const opts = parseOrThrow(BootOptionsSchema, options, 'boot options');
    const started = performance.now();
    const platform = choosePlatform(opts.backend);
    const transport: GuestTransport =
      platform === 'kvm'
        ? KvmTransport.boot((elfCache ??= readFileSync(guestElfPath)), opts.memoryMiB)
        : new ProcessTransport(platform === 'ptrace' ? ptraceSpec(opts.memoryMiB) : processSandboxSpec(opts.memoryMiB));
    return MicroVM.attach(transport, opts.memoryMiB, opts.timeoutMs, started);
  }

  /**
   * A new VM from a snapshot: memory mapped from its files (shared page cache, copy on write),
   * registers restored, the guest waiting for its next command. Every invocation then resets to it.
   *
   * `snapshotDir`: an existing directory beneath which this VM may later write snapshots. Without
   * it the ptrace backend's VMM is sealed once the VM runs (it can open no file at all) and
   * snapshot() is refused; give it only to VMs that will snapshot (the deployer's). The KVM
   * backend takes snapshots in this process and ignores it.
   */
  static async restore(snapshot: VmSnapshot, options: { timeoutMs?: number; snapshotDir?: string } = {}): Promise<MicroVM> {
    const timeoutMs = parseOrThrow(BootOptionsSchema.shape.timeoutMs, options.timeoutMs, 'timeoutMs');
    const started = performance.now();
    let transport: GuestTransport;
    if (snapshot.platform === 'ptrace') {
      // A VMM the launcher made ahead of need (no process start now), sealed once restored; spawned
      // when there is none, and always for a VM that will snapshot (it needs --snapshot-dir and Landlock from its start).
      const vmm = options.snapshotDir ? undefined : await (await sharedLauncher())?.take().catch(() => undefined);
      const { dir, baseMemoryPath, memoryMiB } = snapshot;
      transport = new ProcessTransport(
        vmm ? { platform: 'ptrace', vmm, restore: { dir, baseMemoryPath, memoryMiB } } : ptraceSpec(memoryMiB, snapshot, options.snapshotDir),
      );
    } else if (snapshot.platform === 'kvm') {
      transport = await KvmTransport.restore(snapshot.memoryMiB, snapshot);
    } else {
      throw new VmSnapshotError(`snapshots of the ${snapshot.platform} backend cannot exist — use kvm or ptrace`);
    }
    const vm = await MicroVM.attach(transport, snapshot.memoryMiB, timeoutMs, started);
    vm.hasSnapshot = true;
    if (snapshot.functionName !== undefined) {
      vm.loaded = true;
      vm.functionName = snapshot.functionName;
    }
    return vm;
  }

  /**
   * Waits for a freshly started guest on `transport` to signal READY. Exported for tests that run a
   * deliberately hostile guest; everyone else calls boot().
   */
  static async attach(transport: GuestTransport, memoryMiB: number, timeoutMs: number, started = performance.now()): Promise<MicroVM> {
    try {
      if (transport.announcesReady) {
        const ready = await transport.exchange({ command: GuestCommand.None, input: null, timeoutMs });
        if (ready.event !== GuestEvent.Ready) throw unexpectedEvent(ready, 'READY');
      }
    } catch (err) {
      transport.close();
      throw err;
    }
    return new MicroVM(transport, memoryMiB, timeoutMs, performance.now() - started);
  }

  get platform(): Platform {
    return this.transport.platform;
  }

  /** The host process whose memory holds this guest (for memory accounting). */
  get hostPid(): number {
    return this.transport.hostPid;
  }

  /** Closed by a fatal error or close(), or its process ended on its own while idle. */
  get closed(): boolean {
    return this.closedReason !== undefined || this.transport.endedOnItsOwn !== undefined;
  }

  /** Loads and evaluates the function module (its init). Throws GuestLoadError with the JS error. */
  async load(bundle: string, options: LoadOptions = {}): Promise<{ loadMs: number }> {
    const opts = parseOrThrow(LoadOptionsSchema, options, 'load options');
    if (this.loaded) throw new InvalidInputError('a function is already loaded in this microVM — boot a new VM for another function');
    const input = encodeMetaAndBytes(
      // testHooks: the guest's test-only __fnTestAttack (guest/src/test_attacks.c), only ever
      // asked for by a process started with FN_VMM_TEST_HOOKS=1 — tests, never the platform.
      {
        name: opts.name,
        env: opts.env,
        memoryMiB: this.memoryMiB,
        platform: this.platform,
        ...(process.env.FN_VMM_TEST_HOOKS === '1' ? { testHooks: true } : {}),
      },
      Buffer.from(bundle, 'utf8'),
      'bundle',
      this.transport.inputHeadroom,
    );
    const started = performance.now();
    const result = await this.run(GuestCommand.Load, input);
    if (result.status === GuestStatus.OutOfMemory) this.fatal(new GuestOutOfMemoryError(this.memoryMiB, 'while loading the module'));
    const out = LoadOutputSchema.safeParse(parseJsonOutput(result.output));
    if (!out.success) this.fatal(new GuestCrashedError('bad_output', 'the guest wrote an invalid load result'));
    if ('error' in out.data) {
      const e = out.data.error;
      this.fatal(new GuestLoadError(e.name, e.message, e.stack ?? ''));
    }
    if (result.status !== GuestStatus.Ok) this.fatal(new GuestCrashedError('bad_output', `load finished with status ${result.status} but no error`));
    this.loaded = true;
    this.functionName = opts.name;
    return { loadMs: performance.now() - started };
  }

  /**
   * Writes this VM's state into `dir` (created if missing). With `base`, only the pages that differ
   * from the base snapshot are written (a function snapshot layered on the runtime's base).
   * From now on every invocation starts from this state.
   */
  async snapshot(dir: string, options: { base?: VmSnapshot } = {}): Promise<VmSnapshot> {
    const { base } = options;
    if (base && base.platform !== this.platform) throw new VmSnapshotError(`a ${this.platform} VM cannot layer on a ${base.platform} base snapshot`);
    if (base && base.memoryMiB !== this.memoryMiB)
      throw new VmSnapshotError(`the base snapshot has ${base.memoryMiB} MiB of memory, this VM ${this.memoryMiB} MiB`);
    const snapshotFn = this.transport.snapshot?.bind(this.transport);
    if (!snapshotFn) throw new VmSnapshotError(`the ${this.platform} backend has no snapshots — use kvm or ptrace`);
    const baseMemoryPath = base ? join(base.dir, 'memory.img') : undefined;
    const info = await this.exclusive(() => snapshotFn({ dir, baseMemoryPath }));
    this.hasSnapshot = true;
    return {
      platform: this.platform,
      dir,
      memoryMiB: this.memoryMiB,
      baseMemoryPath,
      functionName: this.loaded ? this.functionName : undefined,
      pages: info.pages,
      diffPages: info.diffPages,
      ms: info.ms,
    };
  }

  /**
   * Runs one invocation. A handler that throws gives a 500 result, not an exception. The request
   * is checked here (in-process callers: fn run, tests, benchmarks); see execute() for one that
   * was checked at a process boundary already.
   */
  async invoke(request: InvokeRequest = {}): Promise<InvokeResult> {
    return this.execute(toVmRequest(request));
  }

  /**
   * Runs one invocation of the contract's form, checked already where it crossed into this process
   * (the VMM host's channel validates with @fn/contract's VmRequestSchema): no second parse here.
   * The request body is copied once, into the buffer that goes to the guest's window. A response
   * over the contract's limits is a BadResponseError; the VM itself is fine and is reset as usual.
   */
  async execute(req: VmRequest): Promise<InvokeResult> {
    if (!this.loaded) throw new InvalidInputError('no function is loaded — call load() before invoke()');
    const meta = {
      method: req.method,
      url: absoluteUrl(req.url),
      headers: req.headers,
      invocationId: req.invocationId,
      deadlineMs: Date.now() + this.timeoutMs,
      // Without env the guest keeps the env given at load; {} would mean the same, in more bytes.
      ...(Object.keys(req.env).length > 0 ? { env: req.env } : {}),
      // The function's ctx.traceparent / ctx.traceId (guest/src/prelude/dispatch.js).
      ...(req.traceparent ? { traceparent: req.traceparent } : {}),
    };
    const input = encodeMetaAndBytes(meta, req.body, 'request', this.transport.inputHeadroom);
    const started = performance.now();
    const result = await this.run(GuestCommand.Invoke, input);
    const totalUs = (performance.now() - started) * 1000;
    if (result.status === GuestStatus.OutOfMemory) this.fatal(new GuestOutOfMemoryError(this.memoryMiB, `in function ${this.functionName}`));
    if (result.status !== GuestStatus.Ok)
      this.fatal(new GuestCrashedError('bad_output', `invoke finished with status ${result.status}: ${preview(result.output)}`));
    let decoded: ReturnType<typeof decodeInvokeOutput>;
    try {
      decoded = decodeInvokeOutput(result.output);
    } catch (err) {
      this.fatal(err as Error);
    }
    const { meta: outMeta, body: outBody } = decoded;
    const response = { status: outMeta.status, headers: outMeta.headers, body: outBody };
    // The guest ran correctly but answered outside the limits: the function's fault, not the VM's.
    checkResponseLimits(response);
    return {
      response,
      logs: outMeta.logs.map((l) => (l.ms >= 0 ? l : { ...l, ms: 0 })),
      ...(outMeta.error ? { error: outMeta.error } : {}),
      timings: { totalUs, guestUs: Number(result.guestNs) / 1000 },
      memory: { heapUsedBytes: Number(result.heapUsed), heapPeakBytes: Number(result.heapPeak) },
    };
  }

  close(): void {
    if (this.closedReason === undefined) this.closedReason = 'closed by the caller';
    this.transport.close();
  }

  private async run(command: GuestCommand, input: Buffer): Promise<ExchangeResult> {
    const invoking = command === GuestCommand.Invoke;
    const reset = invoking && this.hasSnapshot && this.resetAfterInvoke;
    // The VMM resets by itself after DONE (asked in the same command) while other invocations run
    // in this process: the CPU is contended then, and that saves a command and a wake-up of the
    // VMM per invocation. Alone, the reset waits until the answer is out (scheduleReset), so the
    // answer never shares the CPU with it.
    const resetAfter = reset && this.transport.resetsAfterExchange === true && invocationsInFlight > 0;
    if (invoking) invocationsInFlight++;
    let result: ExchangeResult;
    try {
      result = await this.exclusive(async () => {
        const r = await this.transport.exchange({ command, input, timeoutMs: this.timeoutMs, ...(resetAfter ? { resetAfter } : {}) });
        if (r.event === GuestEvent.Panic) this.fatal(new GuestCrashedError('panic', preview(r.output)));
        if (r.event !== GuestEvent.Done) this.fatal(unexpectedEvent(r, 'DONE'));
        return r;
      });
    } finally {
      if (invoking) invocationsInFlight--;
    }
    if (reset) this.scheduleReset(resetAfter);
    return result;
  }

  /**
   * The reset runs off the caller's path; the next call waits for it. A failed reset discards the
   * VM: it must never serve from an unknown state.
   *
   * Where the VMM resets by itself (`started`: the ptrace VMM, asked in the invoke command) it is
   * already under way: it overlaps with the answer's way up through this process, and costs
   * neither a RESET command nor a wake-up of the VMM; only its outcome is awaited here. Otherwise
   * it starts once the current turn of the event loop is over (setImmediate): by then the result
   * has travelled up through every layer of this process and the response is written, so the
   * VMM doing the reset does not compete with the response for a CPU (on a small machine waking
   * it first would delay the answer by a time slice).
   */
  private scheduleReset(started: boolean): void {
    const reset = started ? this.transport.awaitReset?.bind(this.transport) : this.transport.reset?.bind(this.transport);
    if (!reset) return;
    const afterThisTurn = started ? Promise.resolve() : new Promise<void>((resolve) => setImmediate(resolve));
    this.pendingReset = afterThisTurn
      .then(() => this.exclusive(reset, true))
      .then(
        (info) => {
          this.lastReset = info;
          return info;
        },
        (err: unknown) => {
          if (this.closedReason === undefined) this.closedReason = `reset failed: ${(err as Error).message}`;
          this.transport.close();
          return { dirtyPages: 0, us: 0 };
        },
      );
  }

  /** Waits until the last invocation's reset is done (for measurements and orderly shutdown). */
  async settled(): Promise<void> {
    await this.pendingReset;
  }

  /** One guest operation at a time; any failure leaves the guest in an unknown state and discards the VM. */
  private async exclusive<T>(operation: () => Promise<T>, isReset = false): Promise<T> {
    while (!isReset && this.pendingReset) {
      const pending = this.pendingReset;
      this.pendingReset = undefined;
      await pending;
    }
    if (this.closedReason !== undefined) throw new VmClosedError(this.closedReason);
    if (this.busy) throw new VmBusyError();
    this.busy = true;
    try {
      return await operation();
    } catch (err) {
      if (this.closedReason === undefined) this.closedReason = (err as Error).message;
      this.transport.close();
      throw err;
    } finally {
      this.busy = false;
    }
  }

  private fatal(err: Error): never {
    if (this.closedReason === undefined) this.closedReason = err.message;
    this.transport.close();
    throw err;
  }
}

function absoluteUrl(url: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  return `http://localhost${url}`;
}

function unexpectedEvent(result: ExchangeResult, expected: string): GuestCrashedError {
  return new GuestCrashedError('protocol', `the guest rang the doorbell with event ${result.event} where ${expected} was expected`);
}

function preview(output: Buffer): string {
  const text = output
    .subarray(0, 2000)
    .toString('utf8')
    .replace(/[^\x20-\x7e\n\t]/g, '?');
  return text.length > 0 ? text : '(no message)';
}
