/**
 * Who am I, tenants and API keys. The registry decides who may do what (only admin keys create
 * tenants and keys; a tenant key sees and revokes only its own keys): these routes only translate.
 */
import type { RegistryApi as Registry } from '@fn/registry';
import { route, type Route } from '../route-book.js';
import { CreateKeyBody, CreateTenantBody, KeyInfo, KeyList, KeyParams, KeysQuery, NewKey, Tenant, TenantList, Whoami } from '../schemas.js';

export function identityRoutes(registry: Registry, bodyLimit: number): Route[] {
  return [
    route(
      {
        method: 'get',
        path: '/v1/whoami',
        operationId: 'whoami',
        summary: 'The tenant (or admin) behind the presented key',
        tag: 'identity',
        status: 200,
        response: Whoami,
        errors: [],
      },
      ({ caller }) => ({ keyId: caller.keyId, tenant: caller.tenantId, admin: caller.tenantId === null }),
    ),
    route(
      {
        method: 'post',
        path: '/v1/tenants',
        operationId: 'createTenant',
        summary: 'Create a tenant (admin key only)',
        tag: 'identity',
        body: CreateTenantBody,
        bodyLimit,
        status: 201,
        response: Tenant,
        errors: [403, 409],
      },
      ({ caller, body }) => registry.tenants.create(caller, body.name),
    ),
    route(
      {
        method: 'get',
        path: '/v1/tenants',
        operationId: 'listTenants',
        summary: "Every tenant (admin), or the caller's own",
        tag: 'identity',
        status: 200,
        response: TenantList,
        errors: [],
      },
      ({ caller }) => ({ tenants: registry.tenants.list(caller) }),
    ),
    route(
      {
        method: 'post',
        path: '/v1/keys',
        operationId: 'createKey',
        summary: 'Create an API key for a tenant, or "admin" (admin key only); the key is shown once',
        tag: 'identity',
        body: CreateKeyBody,
        bodyLimit,
        status: 201,
        response: NewKey,
        errors: [403, 404],
      },
      ({ caller, body }) => registry.keys.create(caller, body.tenant, body.label),
    ),
    route(
      {
        method: 'get',
        path: '/v1/keys',
        operationId: 'listKeys',
        summary: "API keys (never their secrets): all or one tenant's (admin), or the caller tenant's own",
        tag: 'identity',
        query: KeysQuery,
        status: 200,
        response: KeyList,
        errors: [403],
      },
      ({ caller, query }) => ({ keys: registry.keys.list(caller, query.tenant) }),
    ),
    route(
      {
        method: 'delete',
        path: '/v1/keys/:id',
        operationId: 'revokeKey',
        summary: "Revoke an API key (admin, or the key's own tenant)",
        tag: 'identity',
        params: KeyParams,
        status: 200,
        response: KeyInfo,
        errors: [403, 404, 409],
      },
      ({ caller, params }) => registry.keys.revoke(caller, params.id),
    ),
  ];
}
