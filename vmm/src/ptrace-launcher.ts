/**
 * VMM processes for ptrace restores, made ahead of need by `ptrace-vmm --launcher`
 * (vmm/native/ptrace/launcher.c) instead of spawned per restore.
 *
 * Why: Node's spawn forks this (large) process and blocks the event loop until the child has
 * exec'd — ~50 ms on our 2-core test host, five times the restore itself, and every request in
 * the process waits meanwhile. The launcher is one small process started once; each connection
 * to its Unix socket gets a VMM forked from it (well under a millisecond), whose stdin and stdout
 * are that connection. It says hello with its pid and waits for a RESTORE command. This module
 * keeps a few such standby VMMs connected, so a restore takes one at once and only sends RESTORE;
 * the pool is topped up in the background. Without a usable launcher, restores spawn as before.
 *
 * The socket lives in a fresh 0700 directory (only this user may have VMMs made). The launcher
 * and idle standby connections are unref'd: they never keep this process alive, and when it
 * exits the launcher sees its stdin close and stops. Its VMMs die with it (even one whose guest
 * spins and never reads its connection), so close() it only after the VMs it made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestEvent, WINDOW_DATA_MAX } from './abi.js';
import { FrameReader } from './frame-reader.js';
import { ptraceVmmPath } from './ptrace-vmm.js';

/** A VMM forked by the launcher, connected, holding no VM yet. */
export interface StandbyVmm {
  socket: Socket;
  pid: number;
}

/**
 * Standby VMMs kept connected. A cold start and the pool refill it triggers take one each, and
 * the next cold start may come before the launcher has replaced them: keep two such pairs.
 */
const STANDBY_TARGET = 4;
const STDERR_KEEP_BYTES = 4096;

export class PtraceLauncher {
  private readonly standby: StandbyVmm[] = [];
  private connecting = 0;
  private failure: Error | undefined;
  private stderrTail = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly socketPath: string,
    private readonly dir: string,
  ) {
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    child.on('exit', (code, signal) => this.stop(new Error(`the ptrace VMM launcher ended (${signal ?? `code ${code}`}): ${this.stderrTail.trim()}`)));
  }

  /** Starts a launcher and waits until it listens. */
  static start(): Promise<PtraceLauncher> {
    const dir = mkdtempSync(join(tmpdir(), 'fn-ptrace-'));
    const socketPath = join(dir, 'launcher.sock');
    const child = spawn(ptraceVmmPath, ['--launcher', socketPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let said = '';
      const fail = (why: string) => {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        reject(new Error(`the ptrace VMM launcher did not start: ${why}`));
      };
      child.once('error', (err) => fail(err.message));
      child.once('exit', (code) => fail(`it exited with code ${code}`));
      child.stdout!.on('data', (chunk: Buffer) => {
        said += chunk.toString('utf8');
        if (!said.includes('ready\n')) return;
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        child.stdout!.removeAllListeners('data');
        child.on('error', () => {});
        // Never keep this process alive for the launcher's sake; its stdin closing stops it.
        child.unref();
        for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket).unref();
        const launcher = new PtraceLauncher(child, socketPath, dir);
        // The launcher removes its socket when this process goes; the directory is ours to remove.
        const removeDir = () => rmSync(dir, { recursive: true, force: true });
        process.once('exit', removeDir);
        child.once('exit', () => process.removeListener('exit', removeDir));
        launcher.topUp();
        resolve(launcher);
      });
    });
  }

  get alive(): boolean {
    return this.failure === undefined;
  }

  /** A standby VMM: one kept ready if there is one, else one connected now. */
  async take(): Promise<StandbyVmm> {
    if (this.failure) throw this.failure;
    const ready = this.standby.shift();
    this.topUp();
    const vmm = ready ?? (await this.connectOne(false));
    vmm.socket.ref(); // in use: like a spawned VMM, it keeps the process alive until closed
    return vmm;
  }

  /** Stops the launcher and closes the standby VMMs (VMMs already taken are their owners'). */
  close(): void {
    this.stop(new Error('the ptrace VMM launcher was closed'));
  }

  private stop(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const vmm of this.standby.splice(0)) vmm.socket.destroy();
    this.child.stdin?.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private topUp(): void {
    while (!this.failure && this.standby.length + this.connecting < STANDBY_TARGET) {
      this.connecting++;
      this.connectOne(true).then(
        (vmm) => {
          this.connecting--;
          if (this.failure) vmm.socket.destroy();
          else this.standby.push(vmm);
        },
        () => {
          this.connecting--; // the next take() connects (and reports) for itself
        },
      );
    }
  }

  /**
   * Connects; the launcher forks a VMM for the connection, which says hello with its pid. A VMM
   * made ahead of need never keeps this process alive; one someone waits for does.
   */
  private connectOne(ahead: boolean): Promise<StandbyVmm> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      if (ahead) socket.unref();
      const reader = new FrameReader(WINDOW_DATA_MAX);
      const fail = (why: string) => {
        socket.destroy();
        reject(new Error(`a standby ptrace VMM could not be made: ${why}`));
      };
      socket.on('error', (err) => fail(err.message));
      socket.on('close', () => fail(`the connection closed before its hello ${this.stderrTail.trim()}`));
      socket.on('data', (chunk: Buffer) => {
        let frames;
        try {
          frames = reader.push(chunk);
        } catch (err) {
          fail((err as Error).message);
          return;
        }
        if (frames.length === 0) return;
        const hello = frames[0]!;
        let pid: unknown;
        try {
          pid = (JSON.parse(hello.output.toString('utf8')) as { standby?: { pid?: unknown } }).standby?.pid;
        } catch {
          pid = undefined;
        }
        if (frames.length !== 1 || hello.event !== GuestEvent.Ready || typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) {
          fail('its first frame was not a hello');
          return;
        }
        socket.removeAllListeners();
        socket.on('error', () => {}); // until a transport takes it over
        socket.on('close', () => {
          const at = this.standby.findIndex((s) => s.socket === socket);
          if (at >= 0) this.standby.splice(at, 1);
        });
        resolve({ socket, pid });
      });
    });
  }

  /** For tests: the socket path and how many VMMs stand by. */
  get state(): { socketPath: string; standby: number } {
    return { socketPath: this.socketPath, standby: this.standby.length };
  }
}

let shared: Promise<PtraceLauncher> | undefined;
let failedAt = -Infinity;
/** After a launcher failed to start, restores spawn their VMMs for this long before it is tried again. */
const RETRY_AFTER_MS = 10_000;

/**
 * The launcher of this process, started on first use (and again after it died). Undefined when it
 * cannot start: the caller then spawns its VMM.
 */
export async function sharedLauncher(): Promise<PtraceLauncher | undefined> {
  const current = shared;
  if (current) {
    const launcher = await current.catch(() => undefined);
    if (launcher?.alive) return launcher;
    if (shared !== current) return sharedLauncher(); // restarted meanwhile by another caller
  }
  if (performance.now() - failedAt < RETRY_AFTER_MS) return undefined;
  shared = PtraceLauncher.start();
  return shared.catch(() => {
    failedAt = performance.now();
    return undefined;
  });
}

/**
 * Starts this process's launcher now, so the first restore does not pay for it. The returned
 * function stops it again (a platform shutting down leaves no process behind); a later restore
 * would start a new one.
 */
export function prepareRestores(): () => void {
  const starting = sharedLauncher();
  return () => {
    void starting.then((launcher) => launcher?.close());
  };
}
