/**
 * The messages between the worker and a VMM host process, as zod schemas. This channel is a
 * process boundary, so both sides validate everything they receive, with the invocation
 * contract's own schemas (@fn/contract) for requests and results: the host refuses a request that
 * does not parse, and the worker kills a host whose reply does not parse (it can no longer be
 * trusted to hold VMs). The channel is child_process IPC with serialization 'advanced'
 * (structured clone), so bodies travel as Uint8Array, never as base64.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { LIMITS, VmRequestSchema, VmResultSchema } from '@fn/contract';

const Id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** vmIds are minted by the host; nothing else (paths, prototypes) can pass for one. */
export const VmIdSchema = z.string().regex(/^vm-[0-9]{1,15}$/, 'not a vmId this host could have issued');
const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path without NUL');

export const VmSnapshotSchema = z
  .object({
    platform: z.enum(['kvm', 'ptrace', 'process']),
    dir: AbsolutePath,
    memoryMiB: z.number().int().min(LIMITS.memoryMiB.min).max(LIMITS.memoryMiB.max),
    baseMemoryPath: AbsolutePath.optional(),
    functionName: z.string().min(1).max(256).optional(),
    pages: z.number().int().min(0),
    diffPages: z.number().int().min(0),
    ms: z.number().min(0),
  })
  .strict();

export const HostRequestSchema = z.discriminatedUnion('op', [
  z
    .object({ id: Id, op: z.literal('restore'), snapshot: VmSnapshotSchema, timeoutMs: z.number().int().min(LIMITS.timeoutMs.min).max(LIMITS.timeoutMs.max) })
    .strict(),
  z.object({ id: Id, op: z.literal('invoke'), vmId: VmIdSchema, request: VmRequestSchema }).strict(),
  z.object({ id: Id, op: z.literal('close'), vmId: VmIdSchema }).strict(),
  z.object({ id: Id, op: z.literal('stats') }).strict(),
  /** Deploy hosts only (deploy-host.ts): build a function's snapshot into `scratch` (snapshot-build.ts). */
  z
    .object({
      id: Id,
      op: z.literal('build'),
      base: VmSnapshotSchema,
      bundle: z.string().max(LIMITS.bundleBytes),
      name: z.string().min(1).max(256),
      env: z.record(z.string().max(256), z.string().max(64 * 1024)),
      initTimeoutMs: z
        .number()
        .int()
        .min(1)
        .max(LIMITS.timeoutMs.max * 100),
      scratch: AbsolutePath,
    })
    .strict(),
  /** Stops the build writing into `scratch` (its client went away). */
  z.object({ id: Id, op: z.literal('cancel'), scratch: AbsolutePath }).strict(),
  /** Test-only, answered only by a host started with FN_VMM_TEST_HOOKS=1 (vmm/native/host_lockdown.h). */
  z
    .object({
      id: Id,
      op: z.literal('probe'),
      what: z.enum(['execve', 'open-read', 'open-write', 'socket', 'fork', 'ptrace-parent', 'kill-parent']),
      path: AbsolutePath.optional(),
    })
    .strict(),
]);
export type HostProbe = Extract<z.infer<typeof HostRequestSchema>, { op: 'probe' }>['what'];
export type HostRequest = z.infer<typeof HostRequestSchema>;
export type HostOp = HostRequest['op'];

export const WireErrorSchema = z
  .object({
    name: z.string().min(1).max(200),
    message: z.string().max(64 * 1024),
    stack: z
      .string()
      .max(64 * 1024)
      .optional(),
    /** The error's own data fields (timeoutMs, memoryMiB, kind, …), to rebuild it faithfully. */
    fields: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/), z.union([z.string().max(64 * 1024), z.number(), z.boolean()])),
    /** The VM the call was about no longer exists on the host (closed after a fatal error). */
    vmClosed: z.boolean(),
    /** The invocation never reached the guest (safe to retry on another VM). */
    notStarted: z.boolean(),
  })
  .strict();
export type WireError = z.infer<typeof WireErrorSchema>;

export const RestoreResultSchema = z
  .object({ vmId: VmIdSchema, pid: z.number().int(), platform: z.enum(['kvm', 'ptrace', 'process']), restoreMs: z.number().min(0) })
  .strict();
export type RestoreResult = z.infer<typeof RestoreResultSchema>;

/** The VM's answer with the host's own timings (vm, guest, host): the contract's VmResult. */
export const InvokeResultWireSchema = VmResultSchema;

export const CloseResultSchema = z.object({ closed: z.boolean() }).strict();
export const StatsResultSchema = z
  .object({
    pid: z.number().int(),
    vms: z.number().int().min(0),
    rssKiB: z.number().int().min(0),
    /** Set once the host locked itself down (host-main.ts). */
    lockdown: z
      .object({ seccomp: z.boolean(), dataLimitBytes: z.number().int().min(0), landlockAbi: z.number().int().min(0) })
      .strict()
      .optional(),
  })
  .strict();
export type HostStats = z.infer<typeof StatsResultSchema>;

/** What each op answers with, checked by the worker before anything uses it. */
export const ResultSchemas = {
  restore: RestoreResultSchema,
  invoke: InvokeResultWireSchema,
  close: CloseResultSchema,
  stats: StatsResultSchema,
  probe: z.object({ outcome: z.string().max(64) }).strict(),
  build: z.object({ dir: AbsolutePath, diffPages: z.number().int().min(0), createMs: z.number().min(0) }).strict(),
  cancel: z.object({ cancelled: z.boolean() }).strict(),
} as const;

export const HostMessageSchema = z.union([
  z.object({ type: z.literal('ready'), pid: z.number().int() }).strict(),
  z.object({ type: z.literal('reply'), id: Id, ok: z.literal(true), result: z.unknown() }).strict(),
  z.object({ type: z.literal('reply'), id: Id, ok: z.literal(false), error: WireErrorSchema }).strict(),
  /** A request so malformed that it had no usable id. */
  z.object({ type: z.literal('refused'), error: WireErrorSchema }).strict(),
  /** A VM died on its own after its last invocation (its reset failed): drop it from the pool. */
  z.object({ type: z.literal('vm-lost'), vmId: VmIdSchema, reason: z.string().max(64 * 1024) }).strict(),
  /** A VM's reset after its last invocation finished: it can start the next one at once. */
  z.object({ type: z.literal('vm-ready'), vmId: VmIdSchema, resetMs: z.number().min(0).optional() }).strict(),
]);
export type HostMessage = z.infer<typeof HostMessageSchema>;
