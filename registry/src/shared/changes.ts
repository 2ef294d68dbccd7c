/**
 * The records of the shared registry's change log, and how a replica applies one.
 *
 * A change names a registry write and its arguments, with everything that is not a function of
 * the replica's state fixed by the writer: the time (`at`: every replica runs the write with its
 * clock stopped there), a new key's id and hash (never its secret), a secret's sealed box (never its
 * value: the log holds secrets encrypted, like fn.db). Applied in log order to the same state,
 * a change does the same thing on every replica; the registry's own methods do the work, so the
 * rules (tenant isolation, admin checks, version counters, env/secret clashes) are the same code.
 */
import { z } from 'zod';
import type { Registry } from '../registry.js';

export const RECORD_FORMAT = 1;

const CallerSchema = z.strictObject({ tenantId: z.string().nullable() });
const StoredKeySchema = z.strictObject({ id: z.string(), hash: z.string() });
const Str = z.string();

/** Each write a change can name: its arguments' schema and how it runs on the local registry. */
const OPS = {
  'tenants.create': op(z.tuple([CallerSchema, Str]), (r, [caller, name]) => r.tenants.create(caller, name)),
  'keys.add': op(z.tuple([CallerSchema, Str, Str, StoredKeySchema]), (r, [caller, target, label, key]) => r.keys.add(caller, target, label, key)),
  'keys.ensureAdmin': op(z.tuple([StoredKeySchema, Str]), (r, [key, label]) => r.keys.ensureAdmin(key, label)),
  'keys.revoke': op(z.tuple([CallerSchema, Str]), (r, [caller, keyId]) => r.keys.revoke(caller, keyId)),
  'functions.createVersion': op(z.tuple([z.unknown()]), (r, [input]) =>
    r.functions.createVersion(input as Parameters<Registry['functions']['createVersion']>[0]),
  ),
  'functions.delete': op(z.tuple([Str, Str]), (r, [tenant, name]) => r.functions.delete(tenant, name)),
  'functions.setAlias': op(z.tuple([Str, Str, Str, z.number()]), (r, [tenant, name, alias, version]) => r.functions.setAlias(tenant, name, alias, version)),
  'functions.deleteAlias': op(z.tuple([Str, Str, Str]), (r, [tenant, name, alias]) => r.functions.deleteAlias(tenant, name, alias)),
  'functions.rollback': op(z.tuple([Str, Str, z.number().nullable()]), (r, [tenant, name, to]) => r.functions.rollback(tenant, name, to ?? undefined)),
  'env.setEnv': op(z.tuple([Str, Str, z.record(z.string(), z.string())]), (r, [tenant, name, vars]) => r.env.setEnv(tenant, name, vars)),
  'env.unsetEnv': op(z.tuple([Str, Str, z.array(Str)]), (r, [tenant, name, names]) => r.env.unsetEnv(tenant, name, names)),
  'env.setSealedSecret': op(z.tuple([Str, Str, Str, z.base64()]), (r, [tenant, name, key, sealed]) =>
    r.env.setSealedSecret(tenant, name, key, Buffer.from(sealed, 'base64')),
  ),
  'env.unsetSecret': op(z.tuple([Str, Str, Str]), (r, [tenant, name, key]) => r.env.unsetSecret(tenant, name, key)),
} as const;

export type OpName = keyof typeof OPS;
export type OpArgs<N extends OpName> = z.input<(typeof OPS)[N]['args']>;
export type OpResult<N extends OpName> = ReturnType<(typeof OPS)[N]['run']>;

export const ChangeRecord = z.strictObject({
  v: z.literal(RECORD_FORMAT),
  /** The writer's id for this change: it finds its own change when the log delivers it. */
  id: z.string(),
  /** ms since the epoch: the clock every replica applies the change with. */
  at: z.number(),
  op: z.enum(Object.keys(OPS) as [OpName, ...OpName[]]),
  args: z.array(z.unknown()),
});
export type ChangeRecord = z.infer<typeof ChangeRecord>;

export const GenesisRecord = z.strictObject({
  v: z.literal(RECORD_FORMAT),
  genesis: z.literal(true),
  /** Random: a replica remembers which registry it is a copy of. */
  registryId: z.string(),
  /** SecretBox.fingerprint() of the key every gateway must seal secrets with. */
  keyFingerprint: z.string(),
  at: z.number(),
});
export type GenesisRecord = z.infer<typeof GenesisRecord>;

/** Runs a change's write on the registry (whose clock the caller has stopped at `at`). */
export function applyChange(registry: Registry, change: ChangeRecord): unknown {
  const spec = OPS[change.op] as unknown as { args: z.ZodType<unknown[]>; run: (r: Registry, args: unknown[]) => unknown };
  const args = spec.args.safeParse(change.args);
  if (!args.success) throw new Error(`change ${change.id} (${change.op}) has malformed arguments: ${args.error.issues.map((i) => i.message).join('; ')}`);
  return spec.run(registry, args.data);
}

function op<A extends z.ZodType<unknown[]>, R>(args: A, run: (registry: Registry, args: z.output<A>) => R) {
  return { args, run };
}
