/**
 * Environment variables and secrets of a function.
 *
 * Env vars are part of a version's configuration, as in Lambda: changing them publishes a new
 * version with the same bundle, snapshot and limits as the version `live` points at, and moves
 * `live` to it. So a rollback also rolls back env, and every version's env is exactly what its
 * invocations saw. The snapshot does not depend on env (env reaches the function as the `env`
 * argument of each invocation, not during init), which is why the snapshot can be shared.
 *
 * Secrets are per function and NOT versioned: a rotated secret must stay rotated when someone
 * rolls back, and a secret's value should exist in one row, not be copied into every version.
 * Changing a secret takes effect at the next invocation of every version. Values are sealed at
 * rest (secret-box.ts) and leave the registry only through secretsForInvocation(), for the worker;
 * every other method returns secret names only.
 */
import type Database from 'better-sqlite3';
import { ConflictError, ValidationError } from './errors.js';
import {
  aliasVersion,
  getVersion,
  insertVersion,
  latestVersion,
  requireFunction,
  secretNames,
  sortedEnv,
  toVersion,
  type FunctionRow,
  type VersionRecord,
} from './function-rows.js';
import { EnvVars, FunctionName, MAX_SECRETS_PER_FUNCTION, SecretValue, TenantId, VarName, parse } from './schemas.js';
import type { SecretBox } from './secret-box.js';
import { requireTenant } from './tenants.js';
import type { ChangeWatch } from './change-watch.js';
import { ReadCache } from './read-cache.js';
import { sql } from './statements.js';

export interface EnvChange {
  /** The version `live` points at afterwards. */
  version: VersionRecord;
  /** False if the env already had these values: no version was published. */
  published: boolean;
}

export class EnvStore {
  /** Each version's invocation env (env vars + decrypted secrets); dropped on any database change. */
  private readonly invocationEnvs: ReadCache<Readonly<Record<string, string>>>;

  constructor(
    private readonly db: Database.Database,
    private readonly box: SecretBox,
    private readonly now: () => number,
    watch: ChangeWatch,
  ) {
    this.invocationEnvs = new ReadCache(watch);
  }

  /** Sets (adds or replaces) env vars; publishes a new version if anything changed. */
  setEnv(tenant: string, name: string, vars: Record<string, string>): EnvChange {
    // Checked before parsing: zod would copy the entry onto a plain object's prototype, dropping it.
    if (Object.hasOwn(vars, '__proto__')) throw new ValidationError('invalid env: __proto__ is not allowed as a name');
    const changes = parse(EnvVars, vars, 'env');
    return this.changeEnv(tenant, name, (env, fn) => {
      const clash = secretNames(this.db, fn).filter((s) => Object.hasOwn(changes, s));
      if (clash.length > 0) throw new ConflictError(`${clash.join(', ')}: already a secret of "${fn.name}"; unset the secret first or choose another name`);
      return { ...env, ...changes };
    });
  }

  /** Removes env vars (names not set are ignored); publishes a new version if anything changed. */
  unsetEnv(tenant: string, name: string, names: string[]): EnvChange {
    const drop = new Set(names.map((n, i) => parse(VarName, n, `env name ${i}`)));
    return this.changeEnv(tenant, name, (env) => Object.fromEntries(Object.entries(env).filter(([k]) => !drop.has(k))));
  }

  setSecret(tenant: string, name: string, secretName: string, value: string): void {
    this.setSealedSecret(tenant, name, secretName, this.sealSecret(tenant, name, secretName, value));
  }

  /**
   * The sealed box setSecret() stores, made before the write: a shared registry's change log
   * carries the box, never the value (so the value is encrypted in the log too).
   */
  sealSecret(tenant: string, name: string, secretName: string, value: string): Buffer {
    const key = parse(VarName, secretName, 'secret name');
    // Not parse(): a zod failure must not be able to carry the value into an error or a log.
    if (!SecretValue.safeParse(value).success) throw new ValidationError(`invalid secret ${key}: the value must be a string of 1–32768 characters`);
    const owner = parse(TenantId, tenant, 'tenant');
    const fnName = parse(FunctionName, name, 'function name');
    return this.box.seal(value, `${owner}/${fnName}/${key}`);
  }

  /** setSecret() with the value sealed already (sealSecret). */
  setSealedSecret(tenant: string, name: string, secretName: string, sealed: Buffer): void {
    const key = parse(VarName, secretName, 'secret name');
    const run = this.db.transaction(() => {
      const fn = this.require(tenant, name);
      const current = this.liveOrLatest(fn);
      if (current && Object.hasOwn(current.env, key)) {
        throw new ConflictError(
          `${key} is an environment variable of "${fn.name}": unset it with \`fn env unset ${fn.name} ${key}\` before making it a secret`,
        );
      }
      const names = secretNames(this.db, fn);
      if (!names.includes(key) && names.length >= MAX_SECRETS_PER_FUNCTION) {
        throw new ConflictError(`function "${fn.name}" already has ${MAX_SECRETS_PER_FUNCTION} secrets: unset one first`);
      }
      sql(
        this.db,
        `INSERT INTO secrets (function_id, name, sealed, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
      ).run(fn.id, key, sealed, this.now());
    });
    run.immediate();
  }

  /** Returns whether the secret existed. */
  unsetSecret(tenant: string, name: string, secretName: string): boolean {
    const key = parse(VarName, secretName, 'secret name');
    const run = this.db.transaction(() => {
      const fn = this.require(tenant, name);
      return sql(this.db, 'DELETE FROM secrets WHERE function_id = ? AND name = ?').run(fn.id, key).changes > 0;
    });
    return run.immediate();
  }

  secretNames(tenant: string, name: string): string[] {
    return secretNames(this.db, this.require(tenant, name));
  }

  /**
   * Secret values, for the worker to put into the invocation's `env` (after env vars: a secret
   * wins over an env var of the same name, which only a rollback to an older version can cause).
   * The one method that returns them.
   */
  secretsForInvocation(tenant: string, name: string): Record<string, string> {
    const fn = this.require(tenant, name);
    const rows = sql(this.db, 'SELECT name, sealed FROM secrets WHERE function_id = ? ORDER BY name').all(fn.id) as { name: string; sealed: Buffer }[];
    return Object.fromEntries(rows.map((r) => [r.name, this.box.open(r.sealed, boxContext(fn, r.name), `secret ${r.name} of function "${fn.name}"`)]));
  }

  /**
   * The `env` an invocation of `version` gets: its env vars with the function's secrets over them.
   * Decrypting is the costly part, so the result is kept until the database changes (a set or
   * unset secret, a new version: the next invocation sees it). Shared and frozen: do not modify.
   */
  envForInvocation(tenant: string, name: string, version: Pick<VersionRecord, 'version' | 'env'>): Readonly<Record<string, string>> {
    return this.invocationEnvs.get(`${tenant}\0${name}\0${version.version}`, () =>
      Object.freeze({ ...version.env, ...this.secretsForInvocation(tenant, name) }),
    );
  }

  private changeEnv(tenant: string, name: string, change: (env: Record<string, string>, fn: FunctionRow) => Record<string, string>): EnvChange {
    const run = this.db.transaction((): EnvChange => {
      const fn = this.require(tenant, name);
      const base = this.liveOrLatest(fn);
      if (!base) throw new ConflictError(`function "${fn.name}" has no version to change: deploy it first`);
      const env = sortedEnv(change(base.env, fn));
      if (JSON.stringify(env) === JSON.stringify(base.env)) return { version: base, published: false };
      // The whole env is re-checked: a merge of valid parts can still exceed the total size.
      parse(EnvVars, env, 'env');
      const version = insertVersion(this.db, this.now(), fn.tenant_id, fn.name, { ...base, env }, true);
      return { version, published: true };
    });
    return run.immediate();
  }

  /** The version env changes start from: the one `live` points at (what is running), else the newest. */
  private liveOrLatest(fn: FunctionRow): VersionRecord | undefined {
    const live = aliasVersion(this.db, fn, 'live');
    const row = live === undefined ? latestVersion(this.db, fn) : getVersion(this.db, fn, live);
    return row && toVersion(fn, row);
  }

  private require(tenant: string, name: string): FunctionRow {
    const id = requireTenant(this.db, tenant);
    return requireFunction(this.db, id, parse(FunctionName, name, 'function name'));
  }
}

/** Binds a sealed value to its row (see secret-box.ts). */
function boxContext(fn: FunctionRow, secretName: string): string {
  return `${fn.tenant_id}/${fn.name}/${secretName}`;
}
