/**
 * zod schemas of the invocation contract, for the places where an invocation crosses a process
 * boundary: the worker ↔ VMM host channel and a bus that spans processes (NATS). Inside one
 * process nothing is parsed again: the types of invocation.ts are the contract there.
 *
 * Schemas describe the wire form and are idempotent (a parsed value parses again unchanged);
 * unknown fields are refused, not dropped: a sender that adds one is out of step with the contract.
 */
import { z } from 'zod';
import { headerBytes, LIMITS } from './limits.js';
import { FAILURE_KINDS } from './errors.js';

const Bytes = (max: number, what: string) =>
  z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes (a Uint8Array)')
    .refine((b) => b.byteLength <= max, `${what} must be at most ${max} bytes`);

export const HeaderPairsSchema = z
  .array(z.tuple([z.string().min(1).max(LIMITS.headerNameBytes), z.string()]))
  .max(LIMITS.headerCount)
  .refine((h) => headerBytes(h) <= LIMITS.headerBytes, `headers must add up to at most ${LIMITS.headerBytes} bytes`);

export const EnvSchema = z
  .record(z.string().min(1).max(LIMITS.envNameBytes), z.string().max(LIMITS.envValueBytes))
  .refine((env) => Object.keys(env).length <= LIMITS.envEntries, `at most ${LIMITS.envEntries} env entries`);

export const InvocationIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1–128 characters of letters, digits and _.:-');
/** Version 00 only: fn's own hops always send that; the gateway checks what callers send. */
export const TraceparentSchema = z
  .string()
  .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent (00-<trace id>-<parent id>-<flags>)');
const Name = z.string().regex(/^[a-z0-9-]{1,63}$/, "must be 1–63 characters of a-z, 0-9 and '-'");

export const FunctionRequestSchema = z.strictObject({
  method: z
    .string()
    .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'not a valid HTTP method')
    .max(LIMITS.methodBytes),
  url: z.string().min(1).max(LIMITS.urlBytes),
  headers: HeaderPairsSchema,
  body: Bytes(LIMITS.bodyBytes, 'the request body'),
});

export const VmRequestSchema = FunctionRequestSchema.extend({
  invocationId: InvocationIdSchema,
  env: EnvSchema,
  traceparent: TraceparentSchema.optional(),
});

export const InvocationLimitsSchema = z.strictObject({
  timeoutMs: z.number().int().min(LIMITS.timeoutMs.min).max(LIMITS.timeoutMs.max),
  memoryMiB: z.number().int().min(LIMITS.memoryMiB.min).max(LIMITS.memoryMiB.max),
  maxConcurrency: z.number().int().min(LIMITS.maxConcurrency.min).max(LIMITS.maxConcurrency.max),
});

export const InvocationRequestSchema = z.strictObject({
  invocationId: InvocationIdSchema,
  tenant: Name,
  function: Name,
  version: z.number().int().min(1),
  snapshotKey: z.string().min(1).max(512),
  env: EnvSchema,
  request: FunctionRequestSchema,
  limits: InvocationLimitsSchema,
  traceparent: TraceparentSchema.optional(),
});

export const FunctionResponseSchema = z.strictObject({
  status: z.number().int().min(200).max(599),
  headers: HeaderPairsSchema,
  body: Bytes(LIMITS.bodyBytes, 'the response body'),
});

export const LogLineSchema = z.object({
  level: z.enum(['log', 'info', 'warn', 'error', 'debug', 'trace']),
  message: z.string(),
  ms: z.number().min(0),
});

export const ThrownErrorSchema = z.object({ name: z.string(), message: z.string(), stack: z.string().optional() });

const Ms = z.number().min(0).optional();
export const HopTimingsSchema = z.strictObject({ scheduler: Ms, dispatch: Ms, worker: Ms, hostCall: Ms, host: Ms, vm: Ms, guest: Ms, restore: Ms });

export const VmResultSchema = z.strictObject({
  response: FunctionResponseSchema,
  logs: z.array(LogLineSchema).max(LIMITS.logLines),
  error: ThrownErrorSchema.optional(),
  timings: HopTimingsSchema,
});

export const InvocationResultSchema = VmResultSchema.extend({ cold: z.boolean() });

export const FailureKindSchema = z.enum(FAILURE_KINDS);
