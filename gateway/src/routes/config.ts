/**
 * Env vars and secrets of a function. Env vars are part of a version (a change publishes one and
 * moves live, see registry/src/env.ts); secrets are per function and write-only: their values go
 * into the registry and never come back out through HTTP, only their names.
 *
 * Both reach the function with every invocation (routes/invoke.ts), never through its snapshot:
 * a change takes effect at the next invocation.
 */
import type { RegistryApi as Registry } from '@fn/registry';
import { actFor } from '../auth.js';
import { route, type Route } from '../route-book.js';
import { EnvChange, EnvValueBody, EnvView, FunctionParams, SecretNames, SecretSet, SecretUnset, SecretValueBody, TenantQuery, VarParams } from '../schemas.js';

export function configRoutes(registry: Registry, bodyLimit: number): Route[] {
  const tag = 'configuration';
  return [
    route(
      {
        method: 'get',
        path: '/v1/functions/:name/env',
        operationId: 'getEnv',
        summary: 'The env vars of the version live points at',
        tag,
        params: FunctionParams,
        query: TenantQuery,
        status: 200,
        response: EnvView,
        errors: [403, 404],
      },
      ({ c, caller, query, params }) => {
        const live = registry.functions.resolve(actFor(c, caller, query.tenant), params.name, 'live');
        return { version: live.version, env: live.env };
      },
    ),
    route(
      {
        method: 'put',
        path: '/v1/functions/:name/env/:key',
        operationId: 'setEnv',
        summary: 'Set an env var: publishes a new version and moves live to it',
        tag,
        params: VarParams,
        query: TenantQuery,
        body: EnvValueBody,
        bodyLimit,
        status: 200,
        response: EnvChange,
        errors: [403, 404, 409],
      },
      ({ c, caller, query, params, body }) => registry.env.setEnv(actFor(c, caller, query.tenant), params.name, { [params.key]: body.value }),
    ),
    route(
      {
        method: 'delete',
        path: '/v1/functions/:name/env/:key',
        operationId: 'unsetEnv',
        summary: 'Remove an env var: publishes a new version if it was set',
        tag,
        params: VarParams,
        query: TenantQuery,
        status: 200,
        response: EnvChange,
        errors: [403, 404, 409],
      },
      ({ c, caller, query, params }) => registry.env.unsetEnv(actFor(c, caller, query.tenant), params.name, [params.key]),
    ),
    route(
      {
        method: 'get',
        path: '/v1/functions/:name/secrets',
        operationId: 'listSecrets',
        summary: 'Secret names (values are never returned)',
        tag,
        params: FunctionParams,
        query: TenantQuery,
        status: 200,
        response: SecretNames,
        errors: [403, 404],
      },
      ({ c, caller, query, params }) => ({ names: registry.env.secretNames(actFor(c, caller, query.tenant), params.name) }),
    ),
    route(
      {
        method: 'put',
        path: '/v1/functions/:name/secrets/:key',
        operationId: 'setSecret',
        summary: 'Set a secret (write-only; sealed at rest)',
        tag,
        params: VarParams,
        query: TenantQuery,
        body: SecretValueBody,
        bodyLimit,
        status: 200,
        response: SecretSet,
        errors: [403, 404, 409],
      },
      async ({ c, caller, query, params, body }) => {
        await registry.env.setSecret(actFor(c, caller, query.tenant), params.name, params.key, body.value);
        return { name: params.key };
      },
    ),
    route(
      {
        method: 'delete',
        path: '/v1/functions/:name/secrets/:key',
        operationId: 'unsetSecret',
        summary: 'Remove a secret',
        tag,
        params: VarParams,
        query: TenantQuery,
        status: 200,
        response: SecretUnset,
        errors: [403, 404],
      },
      async ({ c, caller, query, params }) => ({
        name: params.key,
        existed: await registry.env.unsetSecret(actFor(c, caller, query.tenant), params.name, params.key),
      }),
    ),
  ];
}
