/**
 * zod schemas for the VM's own edges: boot and load options and the convenience form of a request
 * that MicroVM.invoke() accepts from in-process callers (fn run, tests, benchmarks), and the meta
 * JSON the guest writes back (hostile by assumption). Sizes come from the invocation contract's
 * one set of limits (@fn/contract); the VMM host checks requests arriving over its channel with
 * the contract's own schemas and hands MicroVM.run() what it checked.
 */
import { LIMITS, LogLineSchema, ThrownErrorSchema, type LogLine } from '@fn/contract';
import { z } from 'zod';

export const MEMORY_MIB_MIN = LIMITS.memoryMiB.min;
export const MEMORY_MIB_MAX = LIMITS.memoryMiB.max;
export const TIMEOUT_MS_MAX = LIMITS.timeoutMs.max;
/** Lambda's synchronous payload limit: 6 MB each way. */
export const REQUEST_BODY_MAX = LIMITS.bodyBytes;

export const BootOptionsSchema = z
  .object({
    memoryMiB: z.number().int().min(MEMORY_MIB_MIN).max(MEMORY_MIB_MAX).default(64),
    timeoutMs: z.number().int().min(1).max(TIMEOUT_MS_MAX).default(10_000),
    /** kvm: a real microVM (the default); ptrace and process: development stand-ins without KVM (see transport.ts); auto: the best one usable here. */
    backend: z.enum(['kvm', 'ptrace', 'process', 'auto']).default('kvm'),
  })
  .strict();
export type BootOptions = z.input<typeof BootOptionsSchema>;

export const LoadOptionsSchema = z
  .object({
    name: z.string().min(1).max(128).default('function'),
    env: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type LoadOptions = z.input<typeof LoadOptionsSchema>;

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HeaderValue = z.string().refine((v) => !/[\r\n\0]/.test(v), 'header values must not contain CR, LF or NUL');
const HeaderPairs = z.array(z.tuple([z.string().regex(HTTP_TOKEN, 'not a valid header name'), HeaderValue]));

/** MicroVM.invoke()'s convenient input: everything optional, headers as pairs or a record, a string body. */
export const InvokeRequestSchema = z
  .object({
    method: z.string().regex(HTTP_TOKEN, 'not a valid HTTP method').max(LIMITS.methodBytes).default('GET'),
    /** A path ("/x?y=1") or an absolute http(s) URL. */
    url: z.string().min(1).max(LIMITS.urlBytes).default('/'),
    headers: z.union([HeaderPairs, z.record(z.string().regex(HTTP_TOKEN, 'not a valid header name'), HeaderValue)]).default([]),
    body: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
    invocationId: z.string().min(1).max(128).optional(),
    /** This invocation's env (and secrets), over the env given at load: the handler's `env` argument. */
    env: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type InvokeRequest = z.input<typeof InvokeRequestSchema>;

export type LogEntry = LogLine;
export const LogEntrySchema = LogLineSchema;

/** The guest's result meta: shapes only; the contract's limits are checked after (checkResponseLimits). */
export const InvokeOutputMetaSchema = z.object({
  status: z.number().int().min(200).max(599),
  headers: z.array(z.tuple([z.string(), z.string()])).max(10_000),
  logs: z.array(LogLineSchema.extend({ ms: z.number() })).max(LIMITS.logLines),
  error: ThrownErrorSchema.optional(),
});
export type InvokeOutputMeta = z.infer<typeof InvokeOutputMetaSchema>;

export const LoadOutputSchema = z.union([z.object({ ok: z.literal(true) }), z.object({ error: ThrownErrorSchema })]);
