/**
 * The deploy host: a VMM host process that only builds function snapshots (snapshot-build.ts),
 * so that a function's module init — tenant code, run at deploy — never runs in the worker's own
 * process on KVM. It is locked down like the invocation hosts (seccomp deny list, no_new_privs,
 * cwd /, Landlock through fn-landlock-exec: the data directory unreadable but for the laid-out
 * snapshots and blobs), except that it may create and write files beneath one directory,
 * <data>/deploy-scratch (host-sandbox.ts): its seccomp filter allows file writes there because
 * Landlock confines them (host-main.ts refuses to start as a deploy host without Landlock).
 *
 * Started on the first deploy, replaced when it dies; builds run `maxBuilds` at a time, the rest
 * wait their turn. The worker (Deployer) archives what a build wrote into the store itself.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { VmmHost, type VmmHostOptions } from './host-client.js';
import { deployScratchRoot, kvmDeployHostSandbox } from './host-sandbox.js';
import type { SnapshotBuildRequest, SnapshotBuildResult } from './snapshot-build.js';

export interface DeployHostOptions extends Pick<VmmHostOptions, 'entry' | 'startTimeoutMs'> {
  /** Builds at a time (default 1); more wait. */
  maxBuilds?: number;
  /** Private memory the host may map beyond what it holds when it locks down (default 2048 MiB). */
  memoryMiB?: number;
}

export class DeployHost {
  private host: Promise<VmmHost> | undefined;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly options: DeployHostOptions = {},
  ) {}

  /** A fresh directory for one build, beneath the one the deploy host may write to. */
  scratchDir(): string {
    const root = deployScratchRoot(this.dataDir);
    mkdirSync(root, { recursive: true, mode: 0o700 }); // the host may not have started yet
    return mkdtempSync(join(root, 'build-'));
  }

  /** The pid of the running deploy host, if one runs (tests, stats). */
  async pid(): Promise<number | undefined> {
    return this.host ? (await this.host.catch(() => undefined))?.pid : undefined;
  }

  /** The running host (started if none), for tests that probe its lockdown. */
  current(): Promise<VmmHost> {
    return this.started();
  }

  /**
   * Builds one snapshot in the deploy host. `signal`: the client went away — the host stops the
   * build (its VM is closed) and this rejects.
   */
  async build(request: SnapshotBuildRequest, signal?: AbortSignal): Promise<SnapshotBuildResult> {
    await this.turn();
    try {
      if (signal?.aborted) throw new Error('the deploy was cancelled');
      const host = await this.started();
      const cancel = () => void host.cancel(request.scratch).catch(() => {});
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        return await host.build(request);
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const host = this.host;
    this.host = undefined;
    await (await host?.catch(() => undefined))?.shutdown();
  }

  private async turn(): Promise<void> {
    if (this.running >= (this.options.maxBuilds ?? 1)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
  }

  private started(): Promise<VmmHost> {
    if (this.closed) return Promise.reject(new Error('the deploy host is closed (the worker is shutting down)'));
    if (!this.host) {
      const host = VmmHost.start({
        ...(this.options.entry ? { entry: this.options.entry } : {}),
        ...(this.options.startTimeoutMs ? { startTimeoutMs: this.options.startTimeoutMs } : {}),
        lockdown: { memoryMiB: this.options.memoryMiB ?? 2048, allowFileWrites: true },
        sandbox: kvmDeployHostSandbox(this.dataDir),
      });
      this.host = host;
      // A host that died (a build's guest took it down, a crash) is replaced on the next build.
      host.then(
        (h) => h.onCrash(() => this.host === host && (this.host = undefined)),
        () => this.host === host && (this.host = undefined),
      );
    }
    return this.host;
  }
}
