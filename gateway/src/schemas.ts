/**
 * Every shape the control API accepts or returns, as zod schemas: requests are validated with
 * them (unknown fields and parameters are rejected), and /openapi.json is generated from them, so
 * the document cannot drift from what the code checks. The registry validates again behind us;
 * these rules mirror its schemas (registry/src/schemas.ts) so that errors surface at the edge.
 */
import { LIMITS } from '@fn/contract';
import { z } from 'zod';

const NAME_RE = /^[a-z0-9-]{1,63}$/;
const NAME_RULE = "1–63 characters of a-z, 0-9 and '-'";

export const TenantName = z.string().regex(NAME_RE, NAME_RULE).describe('A tenant id (its name).');
export const FunctionName = z.string().regex(NAME_RE, NAME_RULE).describe('A function name, unique within its tenant.');
export const AliasName = z
  .string()
  .regex(NAME_RE, NAME_RULE)
  .refine((n) => !/^[0-9]+$/.test(n), 'must not be all digits (that would read as a version number)')
  .describe('An alias; `live` is the one invocations use by default.');
export const VarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a letter or _ followed by up to 127 letters, digits or _')
  // A JavaScript object would take it as its prototype and drop the value silently.
  .refine((n) => n !== '__proto__', '__proto__ cannot be a variable or secret name (JavaScript objects give it a special meaning) — choose another name')
  .describe('An environment variable or secret name.');
export const KeyId = z.string().regex(/^[0-9a-f]{16}$/, 'must be the 16 hex characters of a key id');
const Version = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** Query strings carry text: digits become numbers. */
const QueryInt = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be a whole number')
  .transform(Number);

/** 32 KiB of env in all, like the registry: env rides in every snapshot. */
export const ENV_MAX_BYTES = 32 * 1024;
/** The one bundle limit, the contract's: what the guest's window can take (see @fn/contract). */
export const BUNDLE_MAX_BYTES = LIMITS.bundleBytes;

export const EnvVars = z
  .record(VarName, z.string().max(ENV_MAX_BYTES))
  .refine((env) => Object.keys(env).length <= 200, 'at most 200 variables')
  .describe('Environment variables, name → value.');

// ---- requests -------------------------------------------------------------------------------

/** Admin keys act for a tenant by naming it; a tenant key may only name itself. */
export const TenantQuery = z.strictObject({ tenant: TenantName.optional() });

export const FunctionParams = z.strictObject({ name: FunctionName });
export const AliasParams = z.strictObject({ name: FunctionName, alias: AliasName });
export const VarParams = z.strictObject({ name: FunctionName, key: VarName });
export const KeyParams = z.strictObject({ id: KeyId });

export const DeployConfigInput = z
  .strictObject({
    entry: z.string().min(1).max(256).default('index.js').describe('The source file the bundle was built from (informational).'),
    memoryMiB: z.number().int().min(16).max(1024).default(128).describe("Guest RAM, and so the function's memory limit."),
    timeoutMs: z.number().int().min(1).max(900_000).default(3_000).describe('At most 15 minutes.'),
    maxConcurrency: z.number().int().min(1).max(100_000).default(10).describe('Invocations of this function running at once; more get 429.'),
    public: z.boolean().default(false).describe('Invocable without an API key.'),
    env: EnvVars.optional().describe("Replaces the function's env vars; omitted: the live version's are kept."),
  })
  .describe('Limits and settings of the new version.');

export const DeployBody = z.strictObject({
  name: FunctionName,
  bundle: z
    .string()
    .min(1)
    .max(BUNDLE_MAX_BYTES)
    .refine((b) => Buffer.byteLength(b) <= BUNDLE_MAX_BYTES, `must be at most ${BUNDLE_MAX_BYTES} bytes of UTF-8`)
    .describe('The function as one bundled ES module (source text).'),
  sourceMap: z
    .string()
    .min(1)
    .max(BUNDLE_MAX_BYTES)
    .optional()
    .describe("The bundle's source map (JSON text, esbuild's): error stacks and console output in the logs then name the user's files."),
  // prefault: an omitted config is parsed as {}, so every field takes its own default.
  config: DeployConfigInput.prefault({}),
});

export const SetAliasBody = z.strictObject({ version: Version });
export const RollbackBody = z.strictObject({ version: Version.optional().describe('Default: the highest version below the live one.') }).default({});
export const EnvValueBody = z.strictObject({ value: z.string().max(ENV_MAX_BYTES) });
export const SecretValueBody = z.strictObject({ value: z.string().min(1).max(ENV_MAX_BYTES).describe('Write-only: never returned or logged.') });
export const CreateTenantBody = z.strictObject({ name: TenantName });
export const CreateKeyBody = z.strictObject({
  tenant: z.union([z.literal('admin'), TenantName]).describe('The tenant the key acts for, or "admin" for another admin key.'),
  label: z.string().min(1).max(100).default('api').describe('What the key is for (e.g. "ci").'),
});
export const KeysQuery = z.strictObject({ tenant: TenantName.optional() });
export const LogsQuery = z.strictObject({
  tenant: TenantName.optional(),
  after: QueryInt.optional().describe('A cursor: only records after this id, oldest first (poll with the returned cursor).'),
  limit: QueryInt.pipe(z.number().int().min(1).max(1000)).optional().describe('At most this many records (default 100).'),
  since: QueryInt.optional().describe('Only records of invocations started at or after this time (ms since the epoch).'),
});

// ---- responses ------------------------------------------------------------------------------

export const ErrorBody = z.object({
  error: z.object({
    type: z
      .string()
      .describe(
        'validation, unauthorized, forbidden, not_found, conflict, internal; for an invocation: function_error, timeout, out_of_memory, function_crashed, bad_response, overloaded, unavailable, payload_too_large',
      ),
    message: z.string(),
    requestId: z.string(),
    invocationId: z.string().optional(),
    issues: z.array(z.string()).optional(),
    retryAfterSeconds: z.number().int().optional(),
    stack: z
      .string()
      .optional()
      .describe("function_error, to the function's owner only: the error's stack, in the user's files when the deploy sent a source map."),
  }),
});

export const Whoami = z.object({ keyId: z.string(), tenant: z.string().nullable(), admin: z.boolean() });
export const Tenant = z.object({ id: z.string(), createdAt: z.number() });
export const TenantList = z.object({ tenants: z.array(Tenant) });
export const KeyInfo = z.object({
  id: z.string(),
  tenantId: z.string().nullable(),
  label: z.string(),
  createdAt: z.number(),
  revokedAt: z.number().nullable(),
});
export const NewKey = KeyInfo.extend({ secret: z.string().describe('The API key: shown once, store it now.') });
export const KeyList = z.object({ keys: z.array(KeyInfo) });

export const FunctionConfig = z.object({
  entry: z.string(),
  memoryMiB: z.number().int(),
  timeoutMs: z.number().int(),
  maxConcurrency: z.number().int(),
  public: z.boolean(),
});
export const VersionRecord = z.object({
  tenant: z.string(),
  function: z.string(),
  version: z.number().int(),
  bundleDigest: z.string(),
  snapshotDigest: z.string(),
  config: FunctionConfig,
  env: z.record(z.string(), z.string()),
  createdAt: z.number(),
});
export const VersionList = z.object({ versions: z.array(VersionRecord) });
export const AliasRecord = z.object({ name: z.string(), version: z.number().int(), updatedAt: z.number() });
export const AliasList = z.object({ aliases: z.array(AliasRecord) });
export const FunctionSummary = z.object({
  tenant: z.string(),
  name: z.string(),
  latestVersion: z.number().int().nullable(),
  liveVersion: z.number().int().nullable(),
  public: z.boolean().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export const FunctionList = z.object({ functions: z.array(FunctionSummary) });
export const FunctionDescription = FunctionSummary.extend({
  versions: z.array(VersionRecord),
  aliases: z.array(AliasRecord),
  secrets: z.array(z.string()).describe('Secret names only.'),
});
export const Status = z.object({
  snapshots: z
    .object({
      blobs: z.number().int().describe('State files, memory layers and bundles in the store.'),
      bytes: z.number().int().describe('Disk they hold (allocated blocks).'),
    })
    .nullable()
    .describe('The snapshot store on this machine; null when the gateway has none.'),
});
export const Deleted = z.object({ name: z.string(), versions: z.number().int() });
export const Rollback = z.object({ from: z.number().int().nullable(), to: z.number().int() });
export const EnvView = z.object({ version: z.number().int(), env: z.record(z.string(), z.string()) });
export const EnvChange = z.object({ version: VersionRecord, published: z.boolean().describe('False when nothing changed (no new version).') });
export const SecretNames = z.object({ names: z.array(z.string()) });
export const SecretSet = z.object({ name: z.string() });
export const SecretUnset = z.object({ name: z.string(), existed: z.boolean() });
export const LogRecord = z.object({
  id: z.number().int(),
  tenant: z.string(),
  function: z.string(),
  version: z.number().int(),
  invocationId: z.string(),
  status: z.enum(['ok', 'error', 'timeout', 'crashed', 'rejected']),
  durationMs: z.number(),
  cold: z.boolean(),
  logs: z.array(z.object({ level: z.string(), message: z.string(), ms: z.number() })),
  at: z.number(),
});
export const LogPage = z.object({ records: z.array(LogRecord), cursor: z.number().int().describe('Pass as ?after= to get only newer records.') });
