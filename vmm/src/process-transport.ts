/**
 * Guests in a child process, reached over its pipes with the frames of fn_abi.h ("Process sandbox
 * transport"). Two programs speak it:
 *  - ptrace: vmm/build/ptrace-vmm runs the KVM guest ELF at its guest-physical addresses
 *    in a traced process; every syscall is refused, the doorbell is handled like a VM exit, and
 *    it implements SNAPSHOT, RESET and restore (guest/include/fn_vmm_control.h). A restore runs
 *    in a VMM the launcher made ahead of need (ptrace-launcher.ts), over its Unix connection.
 *  - process: guest/build/fn-guest-process, the runtime built for Linux under seccomp strict mode
 *    (only read, write and exit); no snapshots.
 * Both are development backends for machines without /dev/kvm, NOT a VM boundary: a kernel bug
 * reachable through ptrace stops or read/write would be reachable from them. Production uses KVM.
 */
import { spawn } from 'node:child_process';
import { GuestCommand, GuestEvent, WINDOW_DATA_MAX, WINDOW_HEADER_SIZE } from './abi.js';
import { GuestCrashedError, GuestTimeoutError, VmClosedError, VmBusyError, VmSnapshotError } from './errors.js';
import { freshEntropy, nowUnixNs } from './host-inputs.js';
import type { ExchangeRequest, ExchangeResult, GuestTransport, ResetInfo, SnapshotInfo, SnapshotRequest } from './transport.js';
import { decodeGuestHeader, encodeHostHeader } from './window-header.js';
import { FrameReader, type GuestFrame } from './frame-reader.js';
import type { StandbyVmm } from './ptrace-launcher.js';

const STDERR_KEEP_BYTES = 4096;
/** guest/include/fn_vmm_control.h */
const VMM_CMD_SNAPSHOT = 0x100;
const VMM_CMD_RESET = 0x101;
const VMM_CMD_RESTORE = 0x102;
/** FN_VMM_FLAG_RESET_AFTER: on a guest command, the VMM resets the VM once the guest answers DONE. */
const VMM_FLAG_RESET_AFTER = 0x80000000;
const CONTROL_TIMEOUT_MS = 60_000;

/** Which program to start and how. */
export interface ChildSpec {
  platform: 'process' | 'ptrace';
  path: string;
  args: string[];
  /** Set when the child restores a snapshot: a refusal then means a bad snapshot, not a crash. */
  restoring?: boolean;
}

/** A VMM the launcher made (ptrace-launcher.ts), and the snapshot to restore into it. */
export interface StandbyRestore {
  platform: 'ptrace';
  vmm: StandbyVmm;
  restore: { dir: string; baseMemoryPath?: string | undefined; memoryMiB: number };
}

/** The byte stream to one VMM process: its pipes, or its connection. */
interface Conduit {
  readonly pid: number;
  write(bytes: Buffer): void;
  /** SIGKILL, unless it already ended. */
  kill(): void;
}

interface Pending {
  request: ExchangeRequest;
  deadline: number;
  resolve: (r: ExchangeResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  sleepTimer?: NodeJS.Timeout;
}

export class ProcessTransport implements GuestTransport {
  readonly platform: 'process' | 'ptrace';
  readonly announcesReady = true;
  /** The window header goes in front of the input, written in place: one write, no copy. */
  readonly inputHeadroom = WINDOW_HEADER_SIZE;
  /** The ptrace VMM resets after DONE when asked to in the command (FN_VMM_FLAG_RESET_AFTER). */
  readonly resetsAfterExchange: boolean;
  private readonly conduit: Conduit;
  private readonly reader = new FrameReader(WINDOW_DATA_MAX);
  private pending: Pending | undefined;
  /** Frames that arrived while no exchange was waiting (the READY frame can beat the first call). */
  private readonly early: GuestFrame[] = [];
  private deadReason: string | undefined;
  private stderrTail = '';
  /** Restoring (spawned with --restore, or RESTORE sent): a refusal means a bad snapshot. */
  private restoring: boolean;

  constructor(spec: ChildSpec | StandbyRestore) {
    this.platform = spec.platform;
    this.resetsAfterExchange = spec.platform === 'ptrace';
    this.restoring = 'vmm' in spec || spec.restoring === true;
    this.conduit = 'vmm' in spec ? this.connected(spec) : this.spawned(spec);
  }

  /** A VMM started for this VM alone; its stderr explains an exit. */
  private spawned(spec: ChildSpec): Conduit {
    const child = spawn(spec.path, spec.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    // EPIPE after the guest died is reported through 'exit'; don't let it crash the host.
    child.stdin!.on('error', () => {});
    child.on('error', (err) => this.fail(new GuestCrashedError('spawn', `could not start ${spec.path}: ${err.message}`, { cause: err })));
    // 'close', not 'exit': 'exit' can come before the child's last stderr bytes are read, and the
    // reason a VMM gives for refusing a snapshot is in those bytes.
    child.on('close', (code, signal) => this.onExit(code, signal));
    return {
      pid: child.pid ?? -1,
      write: (bytes) => child.stdin!.write(bytes),
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
  }

  /** A standby VMM from the launcher: RESTORE goes out at once, its READY is the first frame. */
  private connected(spec: StandbyRestore): Conduit {
    const { socket, pid } = spec.vmm;
    let open = true;
    socket.removeAllListeners();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // reported through 'close'
    socket.on('close', () => {
      open = false;
      this.onExit(null, null);
    });
    const conduit: Conduit = {
      pid,
      write: (bytes) => {
        if (open) socket.write(bytes);
      },
      kill: () => {
        // While the connection is open its VMM is alive (the guest process holds no descriptors),
        // so the pid is still this VMM's.
        if (!open) return;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
        socket.destroy();
      },
    };
    const { dir, baseMemoryPath, memoryMiB } = spec.restore;
    const json = JSON.stringify({ dir, base: baseMemoryPath ?? null, memoryMiB: String(memoryMiB) });
    const framed = Buffer.alloc(this.inputHeadroom + Buffer.byteLength(json));
    framed.write(json, this.inputHeadroom, 'utf8');
    this.sendVia(conduit, VMM_CMD_RESTORE, framed);
    return conduit;
  }

  exchange(request: ExchangeRequest): Promise<ExchangeResult> {
    if (this.deadReason !== undefined) return Promise.reject(new VmClosedError(this.deadReason));
    if (this.pending) return Promise.reject(new VmBusyError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.onTimeout(), request.timeoutMs);
      this.pending = { request, deadline: Date.now() + request.timeoutMs, resolve, reject, timer };
      // Command None only waits for the guest's next doorbell (READY after boot).
      if (request.command !== GuestCommand.None) this.send(commandWord(request), request.input);
      const early = this.early.shift();
      if (early) this.onFrame(early);
    });
  }

  async snapshot(request: SnapshotRequest): Promise<SnapshotInfo> {
    this.requireControl('snapshots');
    const out = await this.control(VMM_CMD_SNAPSHOT, { dir: request.dir, base: request.baseMemoryPath ?? null });
    return { pages: num(out.pages), diffPages: num(out.diffPages), bytes: num(out.bytes), ms: num(out.ms) };
  }

  async reset(): Promise<ResetInfo> {
    this.requireControl('reset');
    const out = await this.control(VMM_CMD_RESET, {});
    return { dirtyPages: num(out.dirtyPages), us: num(out.us) };
  }

  /** The RESET reply the VMM sends by itself after a DONE asked for with resetAfter. */
  async awaitReset(): Promise<ResetInfo> {
    this.requireControl('reset');
    const r = await this.exchange({ command: GuestCommand.None, input: null, timeoutMs: CONTROL_TIMEOUT_MS });
    const out = controlOutput(VMM_CMD_RESET, r);
    return { dirtyPages: num(out.dirtyPages), us: num(out.us) };
  }

  private requireControl(what: string): void {
    if (this.platform !== 'ptrace') throw new VmSnapshotError(`the ${this.platform} backend has no ${what} — use kvm or ptrace`);
  }

  /** A command for the VMM itself; its reply is a DONE frame with JSON output. */
  private async control(command: number, input: object): Promise<Record<string, unknown>> {
    const json = JSON.stringify(input);
    const framed = Buffer.alloc(this.inputHeadroom + Buffer.byteLength(json));
    framed.write(json, this.inputHeadroom, 'utf8');
    return controlOutput(command, await this.exchange({ command, input: framed, timeoutMs: CONTROL_TIMEOUT_MS }));
  }

  get hostPid(): number {
    return this.conduit.pid;
  }

  close(): void {
    if (this.deadReason === undefined) this.deadReason = 'closed by the caller';
    this.pending?.reject(new VmClosedError(this.deadReason));
    this.clearPending();
    this.conduit.kill();
  }

  /** `input` (if any) starts with inputHeadroom bytes for the header, which is written there. */
  private send(command: number, input: Buffer | null): void {
    this.sendVia(this.conduit, command, input);
  }

  private sendVia(conduit: Conduit, command: number, input: Buffer | null): void {
    const header = {
      command,
      inputLen: input ? input.length - this.inputHeadroom : 0,
      nowUnixNs: nowUnixNs(),
      tscKhz: 0n, // the process guest calibrates its own TSC before entering seccomp
      entropy: freshEntropy(),
    };
    if (!input) {
      conduit.write(encodeHostHeader(header));
      return;
    }
    encodeHostHeader(header, input);
    conduit.write(input);
  }

  private onData(chunk: Buffer): void {
    let frames: GuestFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(new GuestCrashedError('bad_window', (err as Error).message));
      return;
    }
    for (const frame of frames) {
      if (this.pending) this.onFrame(frame);
      else this.early.push(frame);
    }
  }

  private onFrame(frame: GuestFrame): void {
    const p = this.pending!;
    const h = decodeGuestHeader(frame.header);
    if (this.restoring && frame.event === GuestEvent.Done && h.status !== 0) {
      // A RESTORE the VMM refused (its files): a bad snapshot, as a --restore's exit status 2 says.
      this.fail(new VmSnapshotError(`the snapshot could not be restored: ${refusalMessage(frame.output)}`));
      return;
    }
    if (frame.event === GuestEvent.Ready) this.restoring = false;
    if (frame.event === GuestEvent.Sleep) {
      // A timer is pending in the guest: sleep for it here, never past the deadline, then resume.
      const ms = Math.min(Number(h.sleepNs / 1_000_000n), Math.max(0, p.deadline - Date.now()));
      p.sleepTimer = setTimeout(() => this.send(commandWord(p.request), null), ms);
      return;
    }
    this.clearPending();
    p.resolve({
      event: frame.event,
      status: h.status,
      output: frame.output,
      guestNs: h.guestNs,
      heapUsed: h.heapUsed,
      heapPeak: h.heapPeak,
    });
  }

  private onTimeout(): void {
    const p = this.pending;
    if (!p) return;
    this.deadReason = 'stopped after a timeout';
    this.clearPending();
    this.conduit.kill();
    p.reject(new GuestTimeoutError(p.request.timeoutMs));
  }

  /** Set when the child ended without being asked to (see GuestTransport.endedOnItsOwn). */
  endedOnItsOwn: string | undefined;

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.deadReason !== undefined) return; // we killed it (close or timeout)
    const ptrace = this.platform === 'ptrace';
    const how =
      signal === 'SIGKILL'
        ? ptrace
          ? 'the VMM process (ptrace-vmm) was killed by SIGKILL: from outside, or by the kernel for want of memory'
          : 'the guest process was killed by SIGKILL: it made a system call that seccomp strict mode forbids, or ran out of host memory'
        : signal === 'SIGSYS' && ptrace
          ? 'the VMM process (ptrace-vmm) was killed by its own seccomp filter (SIGSYS): it tried a system call its lockdown forbids — a VMM its guest took over, or a bug in ptrace-vmm'
          : signal
            ? `the guest process died from ${signal}`
            : code === null
              ? `the VMM process (pid ${this.conduit.pid}) ended without a word`
              : `the guest process exited with code ${code}`;
    if (!this.pending) this.endedOnItsOwn = how;
    const tail = this.stderrTail.trim();
    if (this.restoring && code === 2) {
      // ptrace-vmm refuses unusable snapshot files with exit status 2 before its first frame.
      this.fail(new VmSnapshotError(`the snapshot could not be restored: ${tail || 'no reason given'}`));
      return;
    }
    this.fail(new GuestCrashedError(signal === 'SIGKILL' ? 'syscall' : 'crash', tail ? `${how}; it said: ${tail}` : how));
  }

  private fail(err: Error): void {
    if (this.deadReason === undefined) this.deadReason = err.message;
    const p = this.pending;
    this.clearPending();
    this.conduit.kill();
    p?.reject(err);
  }

  private clearPending(): void {
    if (!this.pending) return;
    clearTimeout(this.pending.timer);
    if (this.pending.sleepTimer) clearTimeout(this.pending.sleepTimer);
    this.pending = undefined;
  }
}

/** The command word of a guest command as sent: with FN_VMM_FLAG_RESET_AFTER when asked for. */
function commandWord(request: ExchangeRequest): number {
  return request.resetAfter ? (request.command | VMM_FLAG_RESET_AFTER) >>> 0 : request.command;
}

/** A control command's DONE: its JSON output, or a VmSnapshotError with the VMM's reason. */
function controlOutput(command: number, r: ExchangeResult): Record<string, unknown> {
  if (r.event === GuestEvent.Panic) throw new GuestCrashedError('panic', r.output.toString('utf8').slice(0, 2000) || 'the VMM gave no reason');
  if (r.event !== GuestEvent.Done)
    throw new GuestCrashedError('protocol', `the VMM answered command 0x${command.toString(16)} with event ${r.event}, not DONE`);
  let out: Record<string, unknown>;
  try {
    out = JSON.parse(r.output.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new GuestCrashedError('bad_output', 'the VMM answered a control command with output that is not JSON');
  }
  if (r.status !== 0) {
    const err = (out.error ?? {}) as { message?: string };
    throw new VmSnapshotError(`the VMM refused command 0x${command.toString(16)}: ${err.message ?? `status ${r.status}`}`);
  }
  return out;
}

function refusalMessage(output: Buffer): string {
  try {
    const message = (JSON.parse(output.toString('utf8')) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: say so below
  }
  return 'the VMM refused it without a readable reason';
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
