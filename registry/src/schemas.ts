/**
 * Every input the registry accepts, as zod schemas, and the one helper that turns a zod failure
 * into a ValidationError. Validation happens at the edge of each public method; the SQL below it
 * trusts its arguments. Error messages name the field and the rule, never the value (a value may
 * be a secret).
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';

/** Tenant, function and alias names: they appear in URLs and CLI arguments unquoted. */
export const NAME_RE = /^[a-z0-9-]{1,63}$/;
const NAME_RULE = "must be 1–63 characters of a-z, 0-9 and '-'";

export const TenantId = z.string().regex(NAME_RE, NAME_RULE);
export const FunctionName = z.string().regex(NAME_RE, NAME_RULE);

/** 'admin' names the admin principal in createKey(), so no tenant may be called that. */
export const NewTenantName = TenantId.refine((n) => n !== 'admin', "'admin' is reserved: choose another tenant name");

/** An all-digit alias would be indistinguishable from a version number in resolve(). */
export const AliasName = z
  .string()
  .regex(NAME_RE, NAME_RULE)
  .refine((n) => !/^[0-9]+$/.test(n), 'must not be all digits (that would read as a version number)');

export const VersionNumber = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** 'live', another alias, a version number, or a version number written as a string ("3"). */
export const VersionSelector = z.union([
  VersionNumber,
  z
    .string()
    .regex(/^[0-9]{1,15}$/)
    .transform(Number)
    .pipe(VersionNumber),
  AliasName,
]);
export type VersionSelectorInput = number | string;

/** The snapshot store's digest form; the registry only stores and compares them. */
export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:" followed by 64 lowercase hex characters');

export const KeyLabel = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

/** Limits like Lambda's: 16 MiB is the smallest guest that boots the runtime; 15 minutes max. */
export const FunctionConfig = z.strictObject({
  entry: z.string().min(1).max(256),
  memoryMiB: z.number().int().min(16).max(1024).default(128),
  timeoutMs: z.number().int().min(1).max(900_000).default(3_000),
  maxConcurrency: z.number().int().min(1).max(100_000).default(10),
  public: z.boolean().default(false),
});
export type FunctionConfig = z.output<typeof FunctionConfig>;
export type FunctionConfigInput = z.input<typeof FunctionConfig>;

/** Environment and secret names: what a shell or process.env would accept. */
export const VarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a letter or _ followed by up to 127 letters, digits or _')
  // Would set the prototype of a plain object instead of becoming a key.
  .refine((n) => n !== '__proto__', '__proto__ is not allowed as a name');

/** Lambda allows 4 KiB of env in all; we allow more, but keep a bound: env rides in every invocation. */
export const ENV_MAX_BYTES = 32 * 1024;
export const EnvVars = z
  .record(VarName, z.string().max(ENV_MAX_BYTES))
  .refine((env) => Object.keys(env).length <= 200, 'at most 200 variables')
  .refine(
    (env) => Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0) <= ENV_MAX_BYTES,
    `names and values together must fit in ${ENV_MAX_BYTES} bytes`,
  );
export type EnvVars = Record<string, string>;

export const SecretValue = z.string().min(1).max(ENV_MAX_BYTES);
export const MAX_SECRETS_PER_FUNCTION = 100;

export const CreateVersionInput = z.strictObject({
  tenant: TenantId,
  name: FunctionName,
  bundleDigest: Digest,
  snapshotDigest: Digest,
  config: FunctionConfig,
  env: EnvVars.default({}),
  /**
   * Take the env vars of the version `live` points at when this version is recorded (in the same
   * transaction), instead of `env`: a redeploy that names no env keeps what PUT …/env set, even a
   * change made while the deploy was building (no last-writer-wins over a field the deploy did not set).
   */
  keepLiveEnv: z.boolean().default(false),
  /** Move the `live` alias to the new version (the default, like a deploy). */
  setLive: z.boolean().default(true),
});
export type CreateVersionInput = z.input<typeof CreateVersionInput>;

export const LogLevel = z.enum(['debug', 'info', 'log', 'warn', 'error']);
export const InvocationStatus = z.enum(['ok', 'error', 'timeout', 'crashed', 'rejected']);
export type InvocationStatus = z.output<typeof InvocationStatus>;

export const LogLine = z.strictObject({
  level: LogLevel,
  message: z.string(),
  /** Milliseconds since the invocation started. */
  ms: z.number().min(0),
});
export type LogLine = z.output<typeof LogLine>;

export const AppendLogInput = z.strictObject({
  tenant: TenantId,
  function: FunctionName,
  version: VersionNumber,
  invocationId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1–128 characters of letters, digits and _.:-'),
  status: InvocationStatus,
  durationMs: z.number().min(0),
  cold: z.boolean(),
  logs: z.array(LogLine).default([]),
  /** When the invocation started, ms since the epoch; the registry's clock if omitted. */
  at: z.number().int().min(0).optional(),
});
export type AppendLogInput = z.input<typeof AppendLogInput>;

export const LogQuery = z.strictObject({
  /** Only records with `at` >= since (ms since the epoch). */
  since: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  /** Only records with id > afterId, oldest first: the cursor for `fn logs --follow`. */
  afterId: z.number().int().min(0).optional(),
});
export type LogQueryInput = z.input<typeof LogQuery>;

/** Parses `value` or throws a ValidationError naming `what` and every bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Built from path and message only: zod issues can carry the input, which may be a secret.
  const issues = result.error.issues.map((i) => `${[what, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new ValidationError(`invalid ${what}: ${issues.join('; ')}`, issues);
}
