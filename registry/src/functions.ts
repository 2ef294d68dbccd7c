/**
 * Functions, their versions and aliases, per tenant. Every method takes the caller's tenant and
 * looks functions up by (tenant, name), so one tenant's calls can never reach another's functions:
 * a name in another tenant is simply not found, and deploying it creates the caller's own function.
 */
import type Database from 'better-sqlite3';
import { isAdmin, type Caller } from './caller.js';
import { ConflictError, NotFoundError } from './errors.js';
import {
  aliasVersion,
  findFunction,
  getVersion,
  latestVersion,
  insertVersion,
  requireFunction,
  requireVersion,
  secretNames,
  toAlias,
  toVersion,
  upsertAlias,
  type AliasRecord,
  type AliasRow,
  type FunctionRow,
  type VersionRecord,
  type VersionRow,
} from './function-rows.js';
import { AliasName, CreateVersionInput, FunctionName, TenantId, VersionNumber, VersionSelector, parse, type VersionSelectorInput } from './schemas.js';
import { requireTenant } from './tenants.js';
import type { ChangeWatch } from './change-watch.js';
import { ReadCache } from './read-cache.js';
import { sql } from './statements.js';

export interface FunctionSummary {
  tenant: string;
  name: string;
  latestVersion: number | null;
  /** The version the `live` alias points at; null if it was never set. */
  liveVersion: number | null;
  public: boolean | null;
  createdAt: number;
  updatedAt: number;
}

export interface FunctionDescription extends FunctionSummary {
  versions: VersionRecord[];
  aliases: AliasRecord[];
  /** Names only: secret values leave the registry through secretsForInvocation() alone. */
  secrets: string[];
}

interface SummaryRow extends FunctionRow {
  latest: number | null;
  live: number | null;
  config: string | null;
}

const SUMMARY_SQL = `
  SELECT f.*,
    (SELECT max(version) FROM versions v WHERE v.function_id = f.id) AS latest,
    (SELECT version FROM aliases a WHERE a.function_id = f.id AND a.name = 'live') AS live,
    (SELECT config FROM versions v WHERE v.function_id = f.id
       AND v.version = coalesce((SELECT version FROM aliases a WHERE a.function_id = f.id AND a.name = 'live'),
                                (SELECT max(version) FROM versions v2 WHERE v2.function_id = f.id))) AS config
  FROM functions f`;

function toSummary(row: SummaryRow): FunctionSummary {
  return {
    tenant: row.tenant_id,
    name: row.name,
    latestVersion: row.latest,
    liveVersion: row.live,
    public: row.config === null ? null : (JSON.parse(row.config) as { public: boolean }).public,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class FunctionStore {
  /** Versions by tenant, name and selector, for invocations; dropped on any database change. */
  private readonly resolved: ReadCache<VersionRecord>;
  /** Each function's current public flag, for invocations; dropped on any database change. */
  private readonly publicNow: ReadCache<boolean>;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    watch: ChangeWatch,
  ) {
    this.resolved = new ReadCache(watch);
    this.publicNow = new ReadCache(watch);
  }

  /**
   * Records a deployed version: N = the function's previous highest number + 1 (1 for a new
   * function; never a number used before, even by a deleted function of the same name). Moves
   * `live` to N unless setLive is false.
   */
  createVersion(input: CreateVersionInput): VersionRecord {
    const v = parse(CreateVersionInput, input, 'version');
    const run = this.db.transaction((): VersionRecord => {
      requireTenant(this.db, v.tenant);
      const fn = findFunction(this.db, v.tenant, v.name);
      const env = v.keepLiveEnv ? (fn ? this.liveOrLatestEnv(fn) : {}) : v.env;
      if (fn) {
        const clash = secretNames(this.db, fn).filter((s) => Object.hasOwn(env, s));
        if (clash.length > 0) {
          throw new ConflictError(
            `${clash.join(', ')} ${clash.length > 1 ? 'are secrets' : 'is a secret'} of "${v.name}": rename the environment variable or unset the secret`,
          );
        }
      }
      return insertVersion(this.db, this.now(), v.tenant, v.name, { ...v, env }, v.setLive);
    });
    // IMMEDIATE: the version counter is read and bumped under the write lock, so two deploys
    // from two processes get two different numbers.
    return run.immediate();
  }

  list(tenant: string): FunctionSummary[] {
    const id = requireTenant(this.db, tenant);
    const rows = sql(this.db, `${SUMMARY_SQL} WHERE f.tenant_id = ? ORDER BY f.name`).all(id) as SummaryRow[];
    return rows.map(toSummary);
  }

  describe(tenant: string, name: string): FunctionDescription {
    const read = this.db.transaction((): FunctionDescription => {
      const fn = this.require(tenant, name);
      const summary = toSummary(sql(this.db, `${SUMMARY_SQL} WHERE f.id = ?`).get(fn.id) as SummaryRow);
      return { ...summary, versions: this.versionsOf(fn), aliases: this.aliasesOf(fn), secrets: secretNames(this.db, fn) };
    });
    // A read transaction: versions, aliases and secrets from one consistent snapshot.
    return read.deferred();
  }

  versions(tenant: string, name: string): VersionRecord[] {
    return this.versionsOf(this.require(tenant, name));
  }

  aliases(tenant: string, name: string): AliasRecord[] {
    return this.aliasesOf(this.require(tenant, name));
  }

  /** Deletes the function, its versions, aliases and secrets. Its logs stay until retention. */
  delete(tenant: string, name: string): { versions: number } {
    const run = this.db.transaction(() => {
      const fn = this.require(tenant, name);
      const { n } = sql(this.db, 'SELECT count(*) AS n FROM versions WHERE function_id = ?').get(fn.id) as { n: number };
      // ON DELETE CASCADE removes versions, aliases and secrets with the row.
      sql(this.db, 'DELETE FROM functions WHERE id = ?').run(fn.id);
      return { versions: n };
    });
    return run.immediate();
  }

  /** Points an alias at an existing version (creating the alias if needed). */
  setAlias(tenant: string, name: string, alias: string, version: number): AliasRecord {
    const aliasName = parse(AliasName, alias, 'alias');
    const target = parse(VersionNumber, version, 'version');
    const run = this.db.transaction((): AliasRecord => {
      const fn = this.require(tenant, name);
      requireVersion(this.db, fn, target);
      const now = this.now();
      upsertAlias(this.db, fn, aliasName, target, now);
      return { name: aliasName, version: target, updatedAt: now };
    });
    return run.immediate();
  }

  /** Removes an alias other than `live` (live is what invocations use; move it instead). */
  deleteAlias(tenant: string, name: string, alias: string): void {
    const aliasName = parse(AliasName, alias, 'alias');
    if (aliasName === 'live') throw new ConflictError(`the live alias cannot be deleted: point it at another version with \`fn rollback ${name} <version>\``);
    const run = this.db.transaction(() => {
      const fn = this.require(tenant, name);
      const removed = sql(this.db, 'DELETE FROM aliases WHERE function_id = ? AND name = ?').run(fn.id, aliasName);
      if (removed.changes === 0)
        throw new NotFoundError(`alias "${aliasName}" of function "${fn.name}" does not exist: list aliases with \`fn describe ${fn.name}\``);
    });
    run.immediate();
  }

  /**
   * Moves `live` to `toVersion`, or by default to the highest version below the current live
   * one (N−1 unless versions were skipped, e.g. by a delete and redeploy).
   */
  rollback(tenant: string, name: string, toVersion?: number): { from: number | null; to: number } {
    const explicit = toVersion === undefined ? undefined : parse(VersionNumber, toVersion, 'version');
    const run = this.db.transaction(() => {
      const fn = this.require(tenant, name);
      const from = aliasVersion(this.db, fn, 'live') ?? null;
      let to = explicit;
      if (to === undefined) {
        const below =
          from === null
            ? undefined
            : (sql(this.db, 'SELECT max(version) AS v FROM versions WHERE function_id = ? AND version < ?').get(fn.id, from) as { v: number | null }).v;
        if (below === undefined || below === null) {
          throw new ConflictError(
            `function "${fn.name}" has no version before ${from ?? 'its live version'} to roll back to: name a version with \`fn rollback ${fn.name} <version>\``,
          );
        }
        to = below;
      }
      requireVersion(this.db, fn, to);
      upsertAlias(this.db, fn, 'live', to, this.now());
      return { from, to };
    });
    return run.immediate();
  }

  /** The version an alias (default `live`) or a version number designates, in the caller's tenant. */
  resolve(tenant: string, name: string, selector: VersionSelectorInput = 'live'): VersionRecord {
    const sel = parse(VersionSelector, selector, 'version or alias');
    const read = this.db.transaction((): VersionRecord => {
      const fn = this.require(tenant, name);
      const version = typeof sel === 'number' ? sel : aliasVersion(this.db, fn, sel);
      if (version === undefined)
        throw new NotFoundError(`alias "${sel}" of function "${fn.name}" does not exist: list aliases with \`fn describe ${fn.name}\``);
      return toVersion(fn, requireVersion(this.db, fn, version));
    });
    return read.deferred();
  }

  /**
   * resolve() for an invocation: the owner (and an admin) may invoke any of its functions; anyone
   * else (another tenant, or no key: caller null) only a public one. A private function answers
   * NotFound to them, exactly like a missing one, so its existence is not revealed.
   *
   * "Public" is the function's current setting: the `public` flag of the version `live` points at
   * (the newest version if there is no live alias), whichever version or alias is invoked. So
   * deploying a function private closes every old version of it at once (versions are numbered
   * 1..N: anyone could name an old public one), and secrets, which are per function and current,
   * never reach a caller the owner has not admitted now.
   *
   * The version is remembered until the database changes (a deploy, a rollback, an env change:
   * the next invocation sees it); the returned record is shared and frozen.
   */
  resolveForInvocation(caller: Caller | null, owner: string, name: string, selector: VersionSelectorInput = 'live'): VersionRecord {
    const tenant = parse(TenantId, owner, 'tenant');
    const fnName = parse(FunctionName, name, 'function name');
    const privileged = caller !== null && (isAdmin(caller) || caller.tenantId === tenant);
    try {
      const record = this.resolved.get(`${tenant}\0${fnName}\0${selector}`, () => deepFreeze(this.resolve(tenant, fnName, selector)));
      if (privileged || this.isPublicNow(tenant, fnName)) return record;
    } catch (error) {
      if (privileged || !(error instanceof NotFoundError)) throw error;
    }
    throw new NotFoundError(`no public function "${fnName}" in tenant "${tenant}": a private function is invoked with a key of its tenant`);
  }

  /** The function's current `public` setting: that of its live version (else its newest). */
  private isPublicNow(tenant: string, name: string): boolean {
    return this.publicNow.get(`${tenant}\0${name}`, () => {
      const row = this.liveOrLatestRow(this.require(tenant, name));
      return row !== undefined && (JSON.parse(row.config) as { public?: boolean }).public === true;
    });
  }

  private liveOrLatestRow(fn: FunctionRow): VersionRow | undefined {
    const live = aliasVersion(this.db, fn, 'live');
    return live === undefined ? latestVersion(this.db, fn) : getVersion(this.db, fn, live);
  }

  private liveOrLatestEnv(fn: FunctionRow): Record<string, string> {
    const row = this.liveOrLatestRow(fn);
    return row ? (JSON.parse(row.env) as Record<string, string>) : {};
  }

  /** Every snapshot digest any stored version references: what the snapshot store's gc keeps. */
  referencedSnapshotDigests(): Set<string> {
    return new Set((sql(this.db, 'SELECT DISTINCT snapshot_digest AS d FROM versions').all() as { d: string }[]).map((r) => r.d));
  }

  /** Every bundle digest any stored version references. */
  referencedBundleDigests(): Set<string> {
    return new Set((sql(this.db, 'SELECT DISTINCT bundle_digest AS d FROM versions').all() as { d: string }[]).map((r) => r.d));
  }

  private require(tenant: string, name: string): FunctionRow {
    const id = requireTenant(this.db, tenant);
    return requireFunction(this.db, id, parse(FunctionName, name, 'function name'));
  }

  private versionsOf(fn: FunctionRow): VersionRecord[] {
    const rows = sql(this.db, 'SELECT * FROM versions WHERE function_id = ? ORDER BY version').all(fn.id) as VersionRow[];
    return rows.map((r) => toVersion(fn, r));
  }

  private aliasesOf(fn: FunctionRow): AliasRecord[] {
    return (sql(this.db, 'SELECT name, version, updated_at FROM aliases WHERE function_id = ? ORDER BY name').all(fn.id) as AliasRow[]).map(toAlias);
  }
}

function deepFreeze<T extends VersionRecord>(record: T): T {
  Object.freeze(record.config);
  Object.freeze(record.env);
  return Object.freeze(record);
}
