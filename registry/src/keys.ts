/**
 * API keys: creation (shown once), authentication, revocation, and the admin key's first start.
 * Only hashes are stored (see api-key.ts for why sha256 is enough).
 */
import { timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { generateKey, hashKey, keyIdOf, KEY_ID_FORMAT } from './api-key.js';
import { isAdmin, requireAdmin, type Caller } from './caller.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { KeyLabel, TenantId, parse } from './schemas.js';
import { requireTenant } from './tenants.js';
import type { ChangeWatch } from './change-watch.js';
import { ReadCache } from './read-cache.js';
import { sql } from './statements.js';

export interface KeyInfo {
  id: string;
  /** null: an admin key. */
  tenantId: string | null;
  label: string;
  createdAt: number;
  revokedAt: number | null;
}

/** Returned once, at creation; the secret cannot be read back afterwards. */
export interface NewKey extends KeyInfo {
  secret: string;
}

/** A key as it is stored (no secret): what a shared registry's change log carries. */
export interface StoredKey {
  id: string;
  /** sha256 of the whole key, hex. */
  hash: string;
}

/** A new key (or FN_API_KEY adopted) and its stored form; the secret stays with the caller. */
export function prepareKey(adopted?: string): { secret: string; stored: StoredKey } {
  const key = adopted === undefined ? generateKey() : adopt(parse(AdoptedKey, adopted, 'FN_API_KEY'));
  return { secret: key.secret, stored: { id: key.id, hash: hashKey(key.secret).toString('hex') } };
}

export interface Authenticated {
  keyId: string;
  tenantId: string | null;
}

interface KeyRow {
  id: string;
  tenant_id: string | null;
  label: string;
  hash: Buffer;
  created_at: number;
  revoked_at: number | null;
}

const toInfo = (r: KeyRow): KeyInfo => ({ id: r.id, tenantId: r.tenant_id, label: r.label, createdAt: r.created_at, revokedAt: r.revoked_at });
const KeyId = z.string().regex(KEY_ID_FORMAT, 'must be the 16 hex characters shown by `fn keys list`');
const AdoptedKey = z
  .string()
  .min(16, 'FN_API_KEY must be at least 16 characters: generate one with `openssl rand -hex 32`')
  .max(1024)
  .regex(/^[\x21-\x7e]+$/, 'FN_API_KEY must be printable ASCII without spaces');
const Target = z.union([z.literal('admin'), TenantId]);
const ADMIN_KEY_MARK = 'admin_key_created_at';
/** Compared against when the id is unknown, so a miss costs the same as a wrong secret. */
const NO_SUCH_KEY = hashKey('fn-no-such-key');
const MAX_PRESENTED_KEY = 1024;

export class KeyStore {
  /** Keys that authenticated, by the hash of the presented key; dropped on any database change. */
  private readonly known: ReadCache<Authenticated>;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    watch: ChangeWatch,
  ) {
    this.known = new ReadCache(watch);
  }

  /** Admin only. `target` is a tenant id, or 'admin' for another admin key. */
  create(caller: Caller, target: string, label: string): NewKey {
    const key = prepareKey();
    return { ...this.add(caller, target, label, key.stored), secret: key.secret };
  }

  /** create() with the key made by the caller (prepareKey): the one write both paths share. */
  add(caller: Caller, target: string, label: string, key: StoredKey): KeyInfo {
    requireAdmin(caller, 'create API keys');
    const to = parse(Target, target, 'key owner');
    const tenantId = to === 'admin' ? null : requireTenant(this.db, to);
    return this.insert(tenantId, parse(KeyLabel, label, 'key label'), key);
  }

  /**
   * On the first start of a data directory: creates the admin key (or adopts `envKey`, the value
   * of FN_API_KEY) and returns it, for the operator to copy. On every later start: null, even if
   * that key was revoked since; the secret is never shown twice.
   */
  ensureAdminKey(envKey?: string): NewKey | null {
    if (this.hasAdminKeyMark()) return null;
    const key = prepareKey(envKey);
    const created = this.ensureAdmin(key.stored, adminLabel(envKey));
    return created && { ...created, secret: key.secret };
  }

  /** ensureAdminKey() with the key made by the caller (prepareKey); null if the mark is set already. */
  ensureAdmin(key: StoredKey, label: string): KeyInfo | null {
    const once = this.db.transaction((): KeyInfo | null => {
      if (this.hasAdminKeyMark()) return null;
      const created = this.insert(null, label, key);
      sql(this.db, 'INSERT INTO meta (key, value) VALUES (?, ?)').run(ADMIN_KEY_MARK, String(created.createdAt));
      return created;
    });
    // IMMEDIATE: two processes starting on a fresh directory must not both create an admin key.
    return once.immediate();
  }

  /** Whether the first start's admin key was made (ensureAdminKey will return null). */
  hasAdminKeyMark(): boolean {
    return sql(this.db, 'SELECT 1 FROM meta WHERE key = ?').get(ADMIN_KEY_MARK) !== undefined;
  }

  /**
   * Checks an FN_API_KEY before a start goes any further (issue 13, hole 5: an invalid one was
   * silently ignored and the platform ran on). At the first start of a directory it must be
   * adoptable (ValidationError otherwise); at every later start it must be an active admin key of
   * this directory, since it is adopted at the first start only (ForbiddenError otherwise).
   */
  checkAdminKeyFromEnv(envKey: string): void {
    if (!sql(this.db, 'SELECT 1 FROM meta WHERE key = ?').get(ADMIN_KEY_MARK)) {
      parse(AdoptedKey, envKey, 'FN_API_KEY');
      return;
    }
    const caller = this.authenticate(envKey);
    if (caller === null || caller.tenantId !== null) {
      throw new ForbiddenError(
        'FN_API_KEY is not an active admin key of this data directory (it is adopted as the admin key at the first start only) — unset FN_API_KEY, or set it to an admin key of this directory',
      );
    }
  }

  /**
   * The caller behind a presented key, or null (unknown, wrong or revoked: the reasons are not
   * told apart, to give a guesser nothing). The id lookup is not secret; the comparison of the
   * hash is constant-time and always done, even for an unknown id. A key that authenticated is
   * remembered by its hash until the database changes (a revocation takes effect at once).
   */
  authenticate(presented: unknown): Authenticated | null {
    if (typeof presented !== 'string' || presented.length === 0 || presented.length > MAX_PRESENTED_KEY) return null;
    const hash = hashKey(presented);
    return this.known.get(hash.toString('hex'), () => {
      const row = sql(this.db, 'SELECT id, tenant_id, hash, revoked_at FROM api_keys WHERE id = ?').get(keyIdOf(presented)) as KeyRow | undefined;
      const expected = row?.hash.length === 32 ? row.hash : NO_SUCH_KEY;
      const matches = timingSafeEqual(hash, expected);
      if (!row || !matches || row.revoked_at !== null) return null;
      return Object.freeze({ keyId: row.id, tenantId: row.tenant_id });
    });
  }

  /** Admin: every key, or one tenant's. A tenant: its own keys only. Never a secret or hash. */
  list(caller: Caller, tenantId?: string): KeyInfo[] {
    let owner = tenantId === undefined ? undefined : parse(TenantId, tenantId, 'tenant');
    if (!isAdmin(caller)) {
      if (owner !== undefined && owner !== caller.tenantId) {
        throw new ForbiddenError(`tenant "${caller.tenantId}" cannot list the keys of tenant "${owner}"`);
      }
      owner = caller.tenantId!;
    }
    const rows = (
      owner === undefined
        ? sql(this.db, 'SELECT * FROM api_keys ORDER BY created_at, id').all()
        : sql(this.db, 'SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id').all(owner)
    ) as KeyRow[];
    return rows.map(toInfo);
  }

  /**
   * Admin: any key. A tenant: its own keys. Revoking twice is harmless. The last active admin key
   * cannot be revoked: nobody could create tenants or keys afterwards.
   */
  revoke(caller: Caller, keyId: string): KeyInfo {
    const id = parse(KeyId, keyId, 'key id');
    const run = this.db.transaction((): KeyInfo => {
      const row = sql(this.db, 'SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
      if (!row) throw new NotFoundError(`API key ${id} does not exist: list keys with \`fn keys list\``);
      if (!isAdmin(caller) && row.tenant_id !== caller.tenantId) {
        throw new ForbiddenError(`API key ${id} does not belong to tenant "${caller.tenantId}": only its tenant or an admin can revoke it`);
      }
      if (row.revoked_at !== null) return toInfo(row);
      if (row.tenant_id === null) {
        const admins = sql(this.db, 'SELECT count(*) AS n FROM api_keys WHERE tenant_id IS NULL AND revoked_at IS NULL').get() as { n: number };
        if (admins.n <= 1) throw new ConflictError(`API key ${id} is the last admin key: create another with \`fn keys create admin\` before revoking it`);
      }
      const revokedAt = this.now();
      sql(this.db, 'UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(revokedAt, id);
      return toInfo({ ...row, revoked_at: revokedAt });
    });
    return run.immediate();
  }

  private insert(tenantId: string | null, label: string, key: StoredKey): KeyInfo {
    if (!KEY_ID_FORMAT.test(key.id) || !/^[0-9a-f]{64}$/.test(key.hash))
      throw new ValidationError(`invalid stored key ${key.id}: expected a 16-hex id and a sha256`);
    const row: KeyRow = { id: key.id, tenant_id: tenantId, label, hash: Buffer.from(key.hash, 'hex'), created_at: this.now(), revoked_at: null };
    const inserted = sql(
      this.db,
      'INSERT INTO api_keys (id, tenant_id, label, hash, created_at) VALUES (@id, @tenant_id, @label, @hash, @created_at) ON CONFLICT DO NOTHING',
    ).run(row);
    // 64 random bits make a clash practically impossible; an adopted key already stored does not.
    if (inserted.changes === 0) throw new ConflictError(`API key id ${key.id} is already in use: use another key`);
    return toInfo(row);
  }
}

/** The label of the admin key made at the first start. */
export function adminLabel(envKey: string | undefined): string {
  return envKey === undefined ? 'admin (first start)' : 'admin (FN_API_KEY)';
}

function adopt(secret: string): { id: string; secret: string } {
  return { id: keyIdOf(secret), secret };
}
