/**
 * Who is calling: what authenticate() returned for the request's key. Admin-only methods take a
 * Caller and check it themselves, so a gateway route that forgets to check cannot leak anything.
 */
import { ForbiddenError } from './errors.js';

export interface Caller {
  /** The tenant the key belongs to; null for an admin key. */
  tenantId: string | null;
}

/** The admin principal, for trusted in-process callers (startup, tests, the CLI's local mode). */
export const ADMIN: Caller = Object.freeze({ tenantId: null });

export function isAdmin(caller: Caller): boolean {
  return caller.tenantId === null;
}

export function requireAdmin(caller: Caller, action: string): void {
  if (!isAdmin(caller)) {
    throw new ForbiddenError(`only an admin key can ${action}: tenant "${caller.tenantId}" keys cannot. Ask the operator, who holds the admin key.`);
  }
}
