/**
 * Loads the native core (vmm/native, built by node-gyp into vmm/build/Release/fn_vmm.node) and
 * describes its surface. Only this file knows the addon's shape; everything passed to it has been
 * validated already (DESIGN.md §3: the native boundary takes plain, validated values).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FnVmError } from './errors.js';

export interface NativeProbe {
  ok: boolean;
  code?: string;
  message?: string;
  apiVersion?: number;
}

export interface NativeExchangeRequest {
  command: number;
  input: Buffer | null;
  nowUnixNs: bigint;
  entropy: Buffer;
  timeoutMs: number;
}

export interface NativeExchangeResult {
  event: number;
  status: number;
  output: Buffer;
  guestNs: bigint;
  heapUsed: bigint;
  heapPeak: bigint;
  hostRunNs: bigint;
}

export interface NativeError extends Error {
  kind?: string;
  code?: string;
}

export interface NativeSnapshotResult {
  pages: number;
  diffPages?: number;
  bytes: number;
  ms: number;
}

export interface NativeResetResult {
  dirtyPages: number;
  us: number;
}

export interface NativeMicroVm {
  exchange(req: NativeExchangeRequest, callback: (err: NativeError | null, res?: NativeExchangeResult) => void): void;
  snapshot(req: { dir: string; baseMemoryPath?: string }, callback: (err: NativeError | null, res?: NativeSnapshotResult) => void): void;
  reset(callback: (err: NativeError | null, res?: NativeResetResult) => void): void;
  close(): void;
  stats(): { memoryBytes: number; rssBytes?: number };
}

export interface NativeAddon {
  probe(): NativeProbe;
  /** The VMM host process locks itself down (vmm/native/host_lockdown.h); before any VM exists. */
  lockDownHost(opts: { dataLimitBytes?: number; allowFileWrites?: boolean }): { seccomp: boolean; dataLimitBytes: number };
  /** Test-only: what a taken-over host would try; the errno name it got, or "done". */
  lockdownProbe(what: string, path: string): string;
  NativeMicroVm: {
    new (opts: { memoryBytes: number; guestElf: Buffer }): NativeMicroVm;
    /** Off the event loop (libuv pool): a VM from snapshot files, idle at its doorbell (no READY). */
    restore(opts: { memoryBytes: number; dir: string; baseMemoryPath?: string }, callback: (err: NativeError | null, vm?: NativeMicroVm) => void): void;
  };
}

/** Where node-gyp puts the native core. */
export const nativeAddonPath = fileURLToPath(new URL('../build/Release/fn_vmm.node', import.meta.url));

let cached: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require(nativeAddonPath) as NativeAddon;
  } catch (err) {
    throw new FnVmError('the native core (vmm/build/Release/fn_vmm.node) is not built — run `npm run build` (needs g++, make and python3)', { cause: err });
  }
  return cached;
}
