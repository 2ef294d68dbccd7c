/**
 * The console API's shapes (zod, like every other route: they validate and they make /openapi.json).
 * What a console page needs in one answer each, and never a value it must not show: versions come
 * with their env var NAMES only, secrets are names as everywhere else.
 */
import { z } from 'zod';
import { FunctionConfig, LogRecord, TenantName } from '../schemas.js';

const QueryInt = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be a whole number')
  .transform(Number);

export const ConsoleTenantQuery = z.strictObject({ tenant: TenantName.optional() });

export const PoolNow = z.object({
  idle: z.number().int().describe('Warm VMs waiting for an invocation, over every worker.'),
  busy: z.number().int().describe('VMs running an invocation now.'),
});

export const LastInvocation = z.object({
  status: LogRecord.shape.status,
  cold: z.boolean(),
  durationMs: z.number(),
  at: z.number(),
  version: z.number().int(),
});

export const ConsoleFunction = z.object({
  name: z.string(),
  liveVersion: z.number().int().nullable(),
  latestVersion: z.number().int().nullable(),
  public: z.boolean().nullable(),
  aliases: z.array(z.object({ name: z.string(), version: z.number().int() })),
  pool: PoolNow,
  lastInvocation: LastInvocation.nullable().describe('The newest invocation record, null when it has none.'),
  updatedAt: z.number(),
});
export const ConsoleFunctionList = z.object({ tenant: z.string(), functions: z.array(ConsoleFunction) });

export const ConsoleVersion = z.object({
  version: z.number().int(),
  createdAt: z.number(),
  config: FunctionConfig,
  bundleDigest: z.string(),
  envNames: z.array(z.string()).describe('The names of its env vars; their values are not part of this answer.'),
});
export const ConsoleFunctionDetail = ConsoleFunction.extend({
  versions: z.array(ConsoleVersion).describe('Deploy history, newest first.'),
  envNames: z.array(z.string()).describe("The live version's env var names."),
  secretNames: z.array(z.string()),
});

export const PoolHistoryQuery = z.strictObject({
  tenant: TenantName.optional(),
  since: QueryInt.optional().describe('Only samples at or after this time (ms since the epoch).'),
});
export const PoolHistoryAnswer = z.object({
  intervalMs: z.number().int().describe('How often the workers report.'),
  now: z.number().describe("The gateway's clock, for the chart's time axis."),
  samples: z.array(z.object({ at: z.number(), idle: z.number().int(), busy: z.number().int() })).describe('Oldest first, summed over versions and workers.'),
});

export const TailQuery = z.strictObject({
  tenant: TenantName.optional(),
  after: QueryInt.optional().describe('Start after this log record id (a previous event id); default: only invocations from now on.'),
});
/** The data of each `invocation` event of the tail. */
export const TailEvent = LogRecord;
