/**
 * The process sandbox: the guest runtime built for Linux (guest/build/fn-guest-process) in its own
 * process under seccomp strict mode (only read, write and exit are allowed; anything else kills
 * it). The window travels over its pipes as frames (fn_abi.h, "Process sandbox transport").
 *
 * This is the development backend for machines without /dev/kvm: the same runtime, the same
 * protocol, memory limited by the guest's own arena, time limited by SIGKILL. It is NOT a VM: a
 * kernel bug reachable through read/write would be reachable from it. Production uses KVM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { GuestCommand, GuestEvent, WINDOW_DATA_MAX } from './abi.js';
import { GuestCrashedError, GuestTimeoutError, VmClosedError, VmBusyError } from './errors.js';
import { freshEntropy, nowUnixNs } from './host-inputs.js';
import type { ExchangeRequest, ExchangeResult, GuestTransport } from './transport.js';
import { decodeGuestHeader, encodeHostHeader } from './window-header.js';
import { FrameReader, type GuestFrame } from './frame-reader.js';

const STDERR_KEEP_BYTES = 4096;

interface Pending {
  request: ExchangeRequest;
  deadline: number;
  resolve: (r: ExchangeResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  sleepTimer?: NodeJS.Timeout;
}

export class ProcessTransport implements GuestTransport {
  readonly platform = 'process' as const;
  private readonly child: ChildProcess;
  private readonly reader = new FrameReader(WINDOW_DATA_MAX);
  private pending: Pending | undefined;
  /** Frames that arrived while no exchange was waiting (the READY frame can beat the first call). */
  private readonly early: GuestFrame[] = [];
  private deadReason: string | undefined;
  private stderrTail = '';

  constructor(guestPath: string, memoryMiB: number) {
    this.child = spawn(guestPath, ['--memory-mib', String(memoryMiB)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    // EPIPE after the guest died is reported through 'exit'; don't let it crash the host.
    this.child.stdin!.on('error', () => {});
    this.child.on('error', (err) => this.fail(new GuestCrashedError('spawn', `could not start ${guestPath}: ${err.message}`, { cause: err })));
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
  }

  exchange(request: ExchangeRequest): Promise<ExchangeResult> {
    if (this.deadReason !== undefined) return Promise.reject(new VmClosedError(this.deadReason));
    if (this.pending) return Promise.reject(new VmBusyError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.onTimeout(), request.timeoutMs);
      this.pending = { request, deadline: Date.now() + request.timeoutMs, resolve, reject, timer };
      // Command None only waits for the guest's next doorbell (READY after boot).
      if (request.command !== GuestCommand.None) this.send(request.command, request.input);
      const early = this.early.shift();
      if (early) this.onFrame(early);
    });
  }

  get hostPid(): number {
    return this.child.pid ?? -1;
  }

  close(): void {
    if (this.deadReason === undefined) this.deadReason = 'closed by the caller';
    this.pending?.reject(new VmClosedError(this.deadReason));
    this.clearPending();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private send(command: number, input: Buffer | null): void {
    const header = encodeHostHeader({
      command,
      inputLen: input?.length ?? 0,
      nowUnixNs: nowUnixNs(),
      tscKhz: 0n, // the process guest calibrates its own TSC before entering seccomp
      entropy: freshEntropy(),
    });
    this.child.stdin!.write(input && input.length > 0 ? Buffer.concat([header, input]) : header);
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
    if (frame.event === GuestEvent.Sleep) {
      // A timer is pending in the guest: sleep for it here, never past the deadline, then resume.
      const ms = Math.min(Number(h.sleepNs / 1_000_000n), Math.max(0, p.deadline - Date.now()));
      p.sleepTimer = setTimeout(() => this.send(p.request.command, null), ms);
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
    this.child.kill('SIGKILL');
    p.reject(new GuestTimeoutError(p.request.timeoutMs));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.deadReason !== undefined) return; // we killed it (close or timeout)
    const how =
      signal === 'SIGKILL'
        ? 'the guest process was killed by SIGKILL: it made a system call that seccomp strict mode forbids, or ran out of host memory'
        : signal
          ? `the guest process died from ${signal}`
          : `the guest process exited with code ${code}`;
    const tail = this.stderrTail.trim();
    this.fail(new GuestCrashedError(signal === 'SIGKILL' ? 'syscall' : 'crash', tail ? `${how}; it said: ${tail}` : how));
  }

  private fail(err: Error): void {
    if (this.deadReason === undefined) this.deadReason = err.message;
    const p = this.pending;
    this.clearPending();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    p?.reject(err);
  }

  private clearPending(): void {
    if (!this.pending) return;
    clearTimeout(this.pending.timer);
    if (this.pending.sleepTimer) clearTimeout(this.pending.sleepTimer);
    this.pending = undefined;
  }
}
