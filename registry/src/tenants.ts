/**
 * Tenants. A tenant's id is its name. Creating one is admin-only; a tenant key can see only its
 * own tenant.
 */
import type Database from 'better-sqlite3';
import { isAdmin, requireAdmin, type Caller } from './caller.js';
import { ConflictError, ForbiddenError, NotFoundError } from './errors.js';
import { NewTenantName, TenantId, parse } from './schemas.js';
import { sql } from './statements.js';

export interface Tenant {
  id: string;
  createdAt: number;
}

interface TenantRow {
  id: string;
  created_at: number;
}

const toTenant = (row: TenantRow): Tenant => ({ id: row.id, createdAt: row.created_at });

/** Throws NotFoundError unless the tenant exists; every tenant-scoped method starts here. */
export function requireTenant(db: Database.Database, tenantId: unknown): string {
  const id = parse(TenantId, tenantId, 'tenant');
  if (!sql(db, 'SELECT 1 FROM tenants WHERE id = ?').get(id)) {
    throw new NotFoundError(`tenant "${id}" does not exist: an admin creates it with \`fn tenants create ${id}\``);
  }
  return id;
}

export class TenantStore {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {}

  create(caller: Caller, name: string): Tenant {
    requireAdmin(caller, 'create tenants');
    const id = parse(NewTenantName, name, 'tenant name');
    const row: TenantRow = { id, created_at: this.now() };
    const inserted = sql(this.db, 'INSERT INTO tenants (id, created_at) VALUES (@id, @created_at) ON CONFLICT DO NOTHING').run(row);
    if (inserted.changes === 0) throw new ConflictError(`tenant "${id}" already exists: choose another name`);
    return toTenant(row);
  }

  /** Admin: every tenant. A tenant: only itself. */
  list(caller: Caller): Tenant[] {
    const rows = isAdmin(caller)
      ? (sql(this.db, 'SELECT id, created_at FROM tenants ORDER BY id').all() as TenantRow[])
      : (sql(this.db, 'SELECT id, created_at FROM tenants WHERE id = ?').all(caller.tenantId) as TenantRow[]);
    return rows.map(toTenant);
  }

  get(caller: Caller, tenantId: string): Tenant {
    const id = parse(TenantId, tenantId, 'tenant');
    if (!isAdmin(caller) && caller.tenantId !== id) {
      throw new ForbiddenError(`tenant "${caller.tenantId}" cannot read tenant "${id}": use a key of that tenant or an admin key`);
    }
    const row = sql(this.db, 'SELECT id, created_at FROM tenants WHERE id = ?').get(id) as TenantRow | undefined;
    if (!row) throw new NotFoundError(`tenant "${id}" does not exist: list tenants with \`fn tenants list\``);
    return toTenant(row);
  }
}
