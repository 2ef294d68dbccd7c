/**
 * Deploy = SnapStart for one function version: restore the runtime's base snapshot, load and
 * evaluate the function's bundle (its init runs once, here), snapshot only the pages that differ
 * from the base, and store the result content-addressed. Invocations later restore that snapshot.
 *
 * The base snapshot (runtime ready, no function) is made once per platform, ABI, runtime build
 * (runtime-identity.ts) and memory size and kept under a store ref, so it survives restarts and every function of that size shares it.
 *
 * The function's environment is handed in at load, so it is part of the snapshot: changing env
 * publishes a new version with a new snapshot (as the registry models it). Snapshot memory files
 * hold whatever the function's init put in memory, secrets included; they live in the data
 * directory with the rest of fn's state.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { guestAbiVersion } from '@fn/guest';
import { LIMITS } from '@fn/contract';
import { GuestTimeoutError, MicroVM, PayloadTooLargeError, timeoutScale, type VmSnapshot } from '@fn/vmm';
import type { DeployHost } from './vmm-host/deploy-host.js';
import { buildSnapshot, type SnapshotBuildResult } from './vmm-host/snapshot-build.js';
import { archiveSnapshot, materializeSnapshot, sha256, type Digest, type GcReport, type SnapshotStore } from '@fn/snapshots';
import { DeployCancelledError, DeployInitTimeoutError, RuntimeMismatchError } from './errors.js';
import { runtimeIdentity } from './runtime-identity.js';
import type { WorkerSeries } from './worker-metrics.js';

/** The store ref of the base snapshot for one platform, runtime build and memory size. */
export function baseRef(platform: 'kvm' | 'ptrace', runtimeId: string, memoryMiB: number): string {
  return `base/${platform}/abi${guestAbiVersion}/${runtimeId}/${memoryMiB}MiB`;
}

/** The store ref of a snapshot rebuilt from its bundle for another runtime build. */
export function rebuiltRef(digest: Digest, runtimeId: string): string {
  return `rebuilt/${digest.replace('sha256:', '')}/${runtimeId}`;
}

/** A rebuild runs the function's init again; its deploy-time budget is not recorded, so it gets this. */
const REBUILD_INIT_TIMEOUT_MS = 60_000;

export interface DeployRequest {
  tenant: string;
  name: string;
  /** The function as one ES module (the esbuild bundle). */
  bundle: string;
  memoryMiB: number;
  /** The function's invocation timeout (its init has the deployer's own initTimeoutMs). */
  timeoutMs: number;
  env: Record<string, string>;
}

export interface DeployResult {
  bundleDigest: Digest;
  snapshotDigest: Digest;
  baseDigest: Digest;
  /** Pages the function snapshot adds over the base. */
  diffPages: number;
  ms: number;
}

export interface DeployerOptions {
  store: SnapshotStore;
  /** Where stored snapshots are laid out for restores (memory files are hard links, not copies). */
  workDir: string;
  platform: 'kvm' | 'ptrace';
  /** The runtime build the base snapshots are keyed by; default: digest of the guest ELF and the VMM. */
  runtimeId?: string;
  /**
   * How long a function's init (its module's top-level code) may run at deploy, whatever its
   * timeoutMs: a spinning init must not hold a core for 15 minutes. Default LIMITS.initTimeoutMs.
   */
  initTimeoutMs?: number;
  /** Where VM creations are counted (the worker's series, worker-metrics.ts); none: not counted. */
  series?: WorkerSeries;
  /**
   * Where a function's init runs (KVM): the locked-down deploy host (deploy-host.ts). None: in
   * this process (ptrace, where the VMM is a confined process of its own; and the worker's tests).
   */
  deployHost?: DeployHost;
}

/** The memory size a deploy gets by default (registry's config default): the base prepareBase() makes. */
export const DEFAULT_BASE_MIB = 128;

export class Deployer {
  /** One base per memory size, made once even when deploys race for it. */
  private readonly bases = new Map<number, Promise<{ digest: Digest; snapshot: VmSnapshot }>>();
  private readonly laidOut = new Map<Digest, Promise<VmSnapshot>>();
  /** Memory sizes whose base snapshot is stored and laid out here. */
  private readonly basesReady = new Set<number>();

  private readonly runtimeId: string;
  private readonly initTimeoutMs: number;

  constructor(private readonly options: DeployerOptions) {
    this.runtimeId = options.runtimeId ?? runtimeIdentity(options.platform);
    this.initTimeoutMs = options.initTimeoutMs ?? LIMITS.initTimeoutMs * timeoutScale();
  }

  /**
   * Builds and stores the snapshot of one function version. Load errors (GuestLoadError)
   * propagate; an init past initTimeoutMs is a DeployInitTimeoutError. When `signal` aborts (the
   * client went away) the VM is stopped at once and the deploy ends with DeployCancelledError.
   */
  async deploy(request: DeployRequest, signal?: AbortSignal): Promise<DeployResult> {
    const what = `"${request.tenant}/${request.name}"`;
    if (signal?.aborted) throw new DeployCancelledError(what);
    const started = performance.now();
    const { store } = this.options;
    const bundleBytes = Buffer.from(request.bundle, 'utf8');
    if (bundleBytes.length > LIMITS.bundleBytes) throw new PayloadTooLargeError('bundle', bundleBytes.length, LIMITS.bundleBytes);
    // Named now, stored only once the function has loaded and been snapshotted: a deploy that
    // fails (too large, a load error, out of memory, a timeout, cancelled) leaves no bytes behind.
    const bundleDigest = sha256(bundleBytes);
    const base = await this.base(request.memoryMiB);
    const { deployHost } = this.options;
    // On KVM beneath <data>/deploy-scratch, the one directory the deploy host may write to.
    const scratch = deployHost ? deployHost.scratchDir() : mkdtempSync(join(tmpdir(), 'fn-deploy-'));
    try {
      const buildRequest = { base: base.snapshot, bundle: request.bundle, name: request.name, env: request.env, initTimeoutMs: this.initTimeoutMs, scratch };
      let snap: SnapshotBuildResult;
      try {
        // The one VM of the platform that runs tenant code and writes files: in the deploy host
        // (KVM), or in a VMM that may write beneath `scratch` and nowhere else (ptrace).
        snap = deployHost ? await deployHost.build(buildRequest, signal) : await buildSnapshot(buildRequest, signal);
      } catch (error) {
        if (signal?.aborted) throw new DeployCancelledError(what, { cause: error });
        if (error instanceof GuestTimeoutError) throw new DeployInitTimeoutError(this.initTimeoutMs, { cause: error });
        throw error;
      }
      // The deploy host is not trusted to name where it wrote: only beneath this build's scratch.
      if (relative(scratch, snap.dir).startsWith('..') || isAbsolute(relative(scratch, snap.dir)))
        throw new Error(
          `the deploy host wrote the snapshot of "${request.name}" to ${snap.dir}, outside its scratch directory ${scratch} — a bug or a compromised deploy host`,
        );
      this.options.series?.created('deploy', snap.createMs);
      if (signal?.aborted) throw new DeployCancelledError(what);
      if ((await store.putBlob(bundleBytes)) !== bundleDigest)
        throw new Error(
          `the snapshot store named the bundle of "${request.name}" differently from its sha256 — the store and the deployer disagree on digests`,
        );
      const snapshotDigest = await archiveSnapshot(
        store,
        {
          platform: this.options.platform,
          dir: snap.dir,
          memoryBytes: request.memoryMiB * 1024 * 1024,
          abiVersion: guestAbiVersion,
          runtimeId: this.runtimeId,
        },
        { kind: 'function', base: base.digest, function: { name: `${request.tenant}/${request.name}`, bundleDigest } },
      );
      // Laid out for restores now, while the deploy is slow anyway: the first invocation of the
      // new version (a cold start by definition) then pays for its restore only.
      await this.snapshotFor(snapshotDigest);
      return { bundleDigest, snapshotDigest, baseDigest: base.digest, diffPages: snap.diffPages, ms: performance.now() - started };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /**
   * A stored snapshot laid out for MicroVM.restore(). Snapshots are immutable, so the layout is
   * made and checked once per digest: invocations ask for it on every request. A function snapshot
   * made by another runtime build (an upgrade since its deploy) is rebuilt from its bundle once,
   * kept under a ref, and that one is laid out instead; a base of another build is refused.
   */
  snapshotFor(digest: Digest): Promise<VmSnapshot> {
    let laidOut = this.laidOut.get(digest);
    if (!laidOut) {
      laidOut = this.layOut(digest);
      this.laidOut.set(digest, laidOut);
      laidOut.catch(() => this.laidOut.delete(digest)); // a failure (e.g. a damaged file) is not cached
    }
    return laidOut;
  }

  private async layOut(digest: Digest): Promise<VmSnapshot> {
    const { state } = await this.options.store.loadSnapshot(digest, { verifyMemory: 'size' });
    if (state.runtimeId !== this.runtimeId) {
      const mismatch = new RuntimeMismatchError(digest, state.runtimeId, this.runtimeId);
      if (state.kind !== 'function' || !state.function) throw mismatch;
      return this.snapshotFor(await this.rebuilt(digest, state.function, state.memoryBytes, mismatch));
    }
    const files = await materializeSnapshot(this.options.store, digest, this.options.workDir);
    return {
      platform: files.platform,
      dir: files.dir,
      memoryMiB: files.memoryBytes / (1024 * 1024),
      baseMemoryPath: files.baseMemoryPath,
      functionName: files.functionName,
      pages: 0,
      diffPages: 0,
      ms: 0,
    };
  }

  /**
   * Returns the disk of snapshots nothing needs any more. Kept: what `keep` names (the versions
   * the registry holds and their bundles), the base of this runtime build (its ref), and anything
   * younger than the store's grace period (a deploy in progress has not reached the registry yet).
   * Base refs of other runtime builds are dropped: a version made on such a base keeps it alive
   * through its own snapshot, and new deploys never use it again. Laid-out directories of
   * collected snapshots go too (their memory.img is a hard link: the disk comes back only then).
   */
  async collectGarbage(keep: { snapshots: Iterable<string>; blobs: Iterable<string> }): Promise<GcReport> {
    keep = { snapshots: [...keep.snapshots], blobs: [...keep.blobs] };
    const { store, platform } = this.options;
    const ownPrefix = `base/${platform}/`;
    const currentBuild = `${ownPrefix}abi${guestAbiVersion}/${this.runtimeId}/`;
    const versions = new Set(keep.snapshots);
    for (const { name } of await store.listRefs()) {
      if (name.startsWith(ownPrefix) && !name.startsWith(currentBuild)) await store.deleteRef(name);
      // A rebuilt snapshot lives as long as the version it stands in for, and only for this build.
      const rebuilt = /^rebuilt\/([0-9a-f]{64})\/(.+)$/.exec(name);
      if (rebuilt && (!versions.has(`sha256:${rebuilt[1]}`) || rebuilt[2] !== this.runtimeId)) await store.deleteRef(name);
    }
    const report = await store.gc({ keep });
    const laidOut = existsSync(this.options.workDir) ? readdirSync(this.options.workDir, { withFileTypes: true }) : [];
    for (const entry of laidOut.filter((e) => e.isDirectory())) {
      const digest: Digest = `sha256:${entry.name}`;
      if (!/^[0-9a-f]{64}$/.test(entry.name) || (await store.hasBlob(digest))) continue;
      this.laidOut.delete(digest);
      rmSync(join(this.options.workDir, entry.name), { recursive: true, force: true });
    }
    return report;
  }

  /** The digest of the snapshot rebuilt for this runtime build: stored under a ref, made once. */
  private async rebuilt(digest: Digest, fn: { name: string; bundleDigest: Digest }, memoryBytes: number, mismatch: RuntimeMismatchError): Promise<Digest> {
    const { store } = this.options;
    const ref = rebuiltRef(digest, this.runtimeId);
    const known = await store.getRef(ref);
    if (known) return known;
    const slash = fn.name.indexOf('/');
    let bundle: string;
    try {
      bundle = (await store.readBlob(fn.bundleDigest)).toString('utf8');
    } catch (error) {
      throw new RuntimeMismatchError(digest, mismatch.madeBy, mismatch.running, { cause: error, bundleMissing: true });
    }
    // env {}: the platform's functions see env per invocation, never at init (gateway/src/deps.ts).
    const result = await this.deploy({
      tenant: fn.name.slice(0, slash),
      name: fn.name.slice(slash + 1),
      bundle,
      memoryMiB: memoryBytes / (1024 * 1024),
      timeoutMs: REBUILD_INIT_TIMEOUT_MS,
      env: {},
    });
    await store.setRef(ref, result.snapshotDigest);
    return result.snapshotDigest;
  }

  /** Digests a deploy would give this bundle (for idempotent redeploys). */
  static bundleDigest(bundle: string): Digest {
    return sha256(Buffer.from(bundle, 'utf8'));
  }

  /**
   * Makes (or finds in the store) the base snapshot deploys of `memoryMiB` start from, ahead of the
   * first deploy: a worker with a base is ready (the gateway's /readyz asks).
   */
  async prepareBase(memoryMiB = DEFAULT_BASE_MIB): Promise<void> {
    await this.base(memoryMiB);
  }

  /** True once some base snapshot is stored and laid out here. */
  get hasBase(): boolean {
    return this.basesReady.size > 0;
  }

  private base(memoryMiB: number): Promise<{ digest: Digest; snapshot: VmSnapshot }> {
    let base = this.bases.get(memoryMiB);
    if (!base) {
      base = this.loadOrMakeBase(memoryMiB);
      this.bases.set(memoryMiB, base);
      base.then(() => this.basesReady.add(memoryMiB)).catch(() => {});
      base.catch(() => this.bases.delete(memoryMiB)); // a failed attempt must not stick
    }
    return base;
  }

  private async loadOrMakeBase(memoryMiB: number): Promise<{ digest: Digest; snapshot: VmSnapshot }> {
    const { store, platform } = this.options;
    const ref = baseRef(platform, this.runtimeId, memoryMiB);
    let digest = await store.getRef(ref);
    if (!digest) {
      const scratch = mkdtempSync(join(tmpdir(), 'fn-base-'));
      const creating = performance.now();
      const vm = await MicroVM.boot({ backend: platform, memoryMiB });
      this.options.series?.created('base', performance.now() - creating);
      try {
        const snap = await vm.snapshot(scratch);
        digest = await archiveSnapshot(
          store,
          { platform, dir: snap.dir, memoryBytes: memoryMiB * 1024 * 1024, abiVersion: guestAbiVersion, runtimeId: this.runtimeId },
          { kind: 'base' },
        );
        await store.setRef(ref, digest);
      } finally {
        vm.close();
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    return { digest, snapshot: await this.snapshotFor(digest) };
  }
}
