/**
 * Row shapes of functions, versions and aliases, their conversion to the records the API returns,
 * and the lookups shared by functions.ts and env.ts. All of them are scoped by tenant: a function
 * is found by (tenant, name), never by name alone.
 */
import type Database from 'better-sqlite3';
import { NotFoundError } from './errors.js';
import type { EnvVars, FunctionConfig } from './schemas.js';
import { sql } from './statements.js';

export interface VersionRecord {
  tenant: string;
  function: string;
  version: number;
  bundleDigest: string;
  snapshotDigest: string;
  config: FunctionConfig;
  env: EnvVars;
  createdAt: number;
}

export interface AliasRecord {
  name: string;
  version: number;
  updatedAt: number;
}

export interface FunctionRow {
  id: number;
  tenant_id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface VersionRow {
  function_id: number;
  version: number;
  bundle_digest: string;
  snapshot_digest: string;
  config: string;
  env: string;
  created_at: number;
}

export interface AliasRow {
  name: string;
  version: number;
  updated_at: number;
}

export function toVersion(fn: FunctionRow, row: VersionRow): VersionRecord {
  return {
    tenant: fn.tenant_id,
    function: fn.name,
    version: row.version,
    bundleDigest: row.bundle_digest,
    snapshotDigest: row.snapshot_digest,
    config: JSON.parse(row.config) as FunctionConfig,
    env: JSON.parse(row.env) as EnvVars,
    createdAt: row.created_at,
  };
}

export const toAlias = (row: AliasRow): AliasRecord => ({ name: row.name, version: row.version, updatedAt: row.updated_at });

export function findFunction(db: Database.Database, tenant: string, name: string): FunctionRow | undefined {
  return sql(db, 'SELECT * FROM functions WHERE tenant_id = ? AND name = ?').get(tenant, name) as FunctionRow | undefined;
}

export function requireFunction(db: Database.Database, tenant: string, name: string): FunctionRow {
  const fn = findFunction(db, tenant, name);
  if (!fn) throw new NotFoundError(`function "${name}" does not exist in tenant "${tenant}": deploy it with \`fn deploy\`, or list functions with \`fn list\``);
  return fn;
}

export function getVersion(db: Database.Database, fn: FunctionRow, version: number): VersionRow | undefined {
  return sql(db, 'SELECT * FROM versions WHERE function_id = ? AND version = ?').get(fn.id, version) as VersionRow | undefined;
}

export function requireVersion(db: Database.Database, fn: FunctionRow, version: number): VersionRow {
  const row = getVersion(db, fn, version);
  if (!row) throw new NotFoundError(`version ${version} of function "${fn.name}" does not exist: list versions with \`fn versions ${fn.name}\``);
  return row;
}

export function aliasVersion(db: Database.Database, fn: FunctionRow, alias: string): number | undefined {
  const row = sql(db, 'SELECT version FROM aliases WHERE function_id = ? AND name = ?').get(fn.id, alias) as { version: number } | undefined;
  return row?.version;
}

export function latestVersion(db: Database.Database, fn: FunctionRow): VersionRow | undefined {
  return sql(db, 'SELECT * FROM versions WHERE function_id = ? ORDER BY version DESC LIMIT 1').get(fn.id) as VersionRow | undefined;
}

export function secretNames(db: Database.Database, fn: FunctionRow): string[] {
  return (sql(db, 'SELECT name FROM secrets WHERE function_id = ? ORDER BY name').all(fn.id) as { name: string }[]).map((r) => r.name);
}

/** The one place a version is inserted (a deploy, or an env change publishing a new version). */
export function insertVersion(
  db: Database.Database,
  now: number,
  tenant: string,
  name: string,
  content: { bundleDigest: string; snapshotDigest: string; config: FunctionConfig; env: EnvVars },
  setLive: boolean,
): VersionRecord {
  sql(db, 'INSERT INTO functions (tenant_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET updated_at = excluded.updated_at').run(
    tenant,
    name,
    now,
    now,
  );
  const fn = findFunction(db, tenant, name)!;
  // The counter survives deletes of the function, so numbers are never reused (see migrations).
  const { last_version: version } = sql(
    db,
    `INSERT INTO version_counters (tenant_id, function_name, last_version) VALUES (?, ?, 1)
       ON CONFLICT DO UPDATE SET last_version = last_version + 1 RETURNING last_version`,
  ).get(tenant, name) as { last_version: number };
  const row: VersionRow = {
    function_id: fn.id,
    version,
    bundle_digest: content.bundleDigest,
    snapshot_digest: content.snapshotDigest,
    config: JSON.stringify(content.config),
    env: JSON.stringify(sortedEnv(content.env)),
    created_at: now,
  };
  sql(
    db,
    `INSERT INTO versions (function_id, version, bundle_digest, snapshot_digest, config, env, created_at)
     VALUES (@function_id, @version, @bundle_digest, @snapshot_digest, @config, @env, @created_at)`,
  ).run(row);
  if (setLive) upsertAlias(db, fn, 'live', version, now);
  return toVersion(fn, row);
}

export function upsertAlias(db: Database.Database, fn: FunctionRow, alias: string, version: number, now: number): void {
  sql(
    db,
    `INSERT INTO aliases (function_id, name, version, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
  ).run(fn.id, alias, version, now);
  sql(db, 'UPDATE functions SET updated_at = ? WHERE id = ?').run(now, fn.id);
}

/** Stored sorted so two versions with the same env compare equal as JSON. */
export function sortedEnv(env: EnvVars): EnvVars {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
