/**
 * Who is calling: `Authorization: Bearer <key>` → registry.keys.authenticate. The control API
 * requires a key; invocations take one if given (a wrong key is still a 401, never "anonymous").
 *
 * Admin keys belong to no tenant. On tenant-scoped routes they name the tenant they act for with
 * `?tenant=<tenant>`; a tenant key may omit it or name itself, and gets 403 for any other tenant.
 */
import { ForbiddenError, type Authenticated, type RegistryApi as Registry } from '@fn/registry';
import type { Context, MiddlewareHandler } from 'hono';
import type { GatewayEnv } from './context.js';
import { BadRequestError, UnauthorizedError } from './errors.js';

/** The presented key; null when there is no Authorization header at all. */
export function presentedKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) throw new UnauthorizedError('the Authorization header must be "Bearer <API key>"');
  return match[1]!;
}

/** The caller behind the request's key, null without one; 401 for a key that does not authenticate. */
export function authenticate(registry: Registry, header: string | undefined): Authenticated | null {
  const key = presentedKey(header);
  if (key === null) return null;
  const caller = registry.keys.authenticate(key);
  // Unknown, wrong and revoked keys are not told apart: a guesser learns nothing.
  if (!caller) throw new UnauthorizedError('the API key is not valid (unknown or revoked) — check FN_API_KEY, or ask an admin for a key');
  return caller;
}

export function requireKey(registry: Registry): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const caller = authenticate(registry, c.req.header('authorization'));
    if (!caller) throw new UnauthorizedError('an API key is required: send "Authorization: Bearer <API key>"');
    c.set('caller', caller);
    c.set('tenant', caller.tenantId ?? undefined);
    await next();
  };
}

/** The tenant a tenant-scoped control request acts for (see the header comment). */
export function actingTenant(caller: Authenticated, requested: string | undefined): string {
  if (caller.tenantId === null) {
    if (requested === undefined)
      throw new BadRequestError('an admin key acts for a tenant: add ?tenant=<tenant> to the URL', ['query.tenant: required with an admin key']);
    return requested;
  }
  if (requested !== undefined && requested !== caller.tenantId) {
    throw new ForbiddenError(`a key of tenant "${caller.tenantId}" cannot act for tenant "${requested}": use a key of that tenant`);
  }
  return caller.tenantId;
}

/** actingTenant(), remembered for the request log. */
export function actFor(c: Context<GatewayEnv>, caller: Authenticated, requested: string | undefined): string {
  const tenant = actingTenant(caller, requested);
  c.set('tenant', tenant);
  return tenant;
}
