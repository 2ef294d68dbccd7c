/**
 * Functions, versions and aliases of the tenant a request acts for (auth.ts: actFor). Tenant
 * isolation is the registry's: every call is scoped by that tenant, so another tenant's function
 * is simply not found, and deploying its name creates the caller's own.
 */
import type { RegistryApi as Registry } from '@fn/registry';
import { actFor } from '../auth.js';
import { deploy } from '../deploy.js';
import { DeploySlots } from '../deploy-slots.js';
import type { Deployer, SnapshotDisk } from '../deps.js';
import type { SourceMaps } from '../source-map-files.js';
import { route, type Route } from '../route-book.js';
import {
  AliasList,
  AliasParams,
  AliasRecord,
  Deleted,
  DeployBody,
  FunctionDescription,
  FunctionList,
  FunctionParams,
  Rollback,
  RollbackBody,
  SetAliasBody,
  TenantQuery,
  VersionList,
  VersionRecord,
} from '../schemas.js';

export interface FunctionRouteDeps {
  registry: Registry;
  deployer: Deployer;
  snapshots?: SnapshotDisk | undefined;
  sourceMaps?: SourceMaps | undefined;
  deployTimeoutMs: number;
  deploysPerTenant: number;
  deployBodyBytes: number;
  controlBodyBytes: number;
}

export function functionRoutes(deps: FunctionRouteDeps): Route[] {
  const { registry } = deps;
  const slots = new DeploySlots(deps.deploysPerTenant);
  const bodyLimit = deps.controlBodyBytes;
  const tag = 'functions';
  return [
    route(
      {
        method: 'post',
        path: '/v1/functions',
        operationId: 'deploy',
        summary: 'Deploy: bundle + config → snapshot → version N, and move live to it',
        tag,
        query: TenantQuery,
        body: DeployBody,
        bodyLimit: deps.deployBodyBytes,
        status: 201,
        response: VersionRecord,
        errors: [403, 404, 409, 413, 429, 504],
      },
      ({ c, caller, query, body }) => deploy({ ...deps, slots }, caller, actFor(c, caller, query.tenant), body, c.req.raw.signal),
    ),
    route(
      {
        method: 'get',
        path: '/v1/functions',
        operationId: 'listFunctions',
        summary: "The tenant's functions",
        tag,
        query: TenantQuery,
        status: 200,
        response: FunctionList,
        errors: [403, 404],
      },
      ({ c, caller, query }) => ({ functions: registry.functions.list(actFor(c, caller, query.tenant)) }),
    ),
    route(
      {
        method: 'get',
        path: '/v1/functions/:name',
        operationId: 'describeFunction',
        summary: 'A function: versions, aliases and secret names',
        tag,
        params: FunctionParams,
        query: TenantQuery,
        status: 200,
        response: FunctionDescription,
        errors: [403, 404],
      },
      ({ c, caller, query, params }) => registry.functions.describe(actFor(c, caller, query.tenant), params.name),
    ),
    route(
      {
        method: 'delete',
        path: '/v1/functions/:name',
        operationId: 'deleteFunction',
        summary: 'Delete a function with its versions, aliases and secrets (its logs stay until retention)',
        tag,
        params: FunctionParams,
        query: TenantQuery,
        status: 200,
        response: Deleted,
        errors: [403, 404],
      },
      async ({ c, caller, query, params }) => {
        const deleted = await registry.functions.delete(actFor(c, caller, query.tenant), params.name);
        deps.snapshots?.collect(); // its snapshots' disk comes back once the store's grace period allows
        return { name: params.name, ...deleted };
      },
    ),
    route(
      {
        method: 'get',
        path: '/v1/functions/:name/versions',
        operationId: 'listVersions',
        summary: 'Every version of a function, oldest first',
        tag,
        params: FunctionParams,
        query: TenantQuery,
        status: 200,
        response: VersionList,
        errors: [403, 404],
      },
      ({ c, caller, query, params }) => ({ versions: registry.functions.versions(actFor(c, caller, query.tenant), params.name) }),
    ),
    route(
      {
        method: 'get',
        path: '/v1/functions/:name/aliases',
        operationId: 'listAliases',
        summary: "A function's aliases",
        tag,
        params: FunctionParams,
        query: TenantQuery,
        status: 200,
        response: AliasList,
        errors: [403, 404],
      },
      ({ c, caller, query, params }) => ({ aliases: registry.functions.aliases(actFor(c, caller, query.tenant), params.name) }),
    ),
    route(
      {
        method: 'put',
        path: '/v1/functions/:name/aliases/:alias',
        operationId: 'setAlias',
        summary: 'Point an alias (live included) at a version',
        tag,
        params: AliasParams,
        query: TenantQuery,
        body: SetAliasBody,
        bodyLimit,
        status: 200,
        response: AliasRecord,
        errors: [403, 404],
      },
      ({ c, caller, query, params, body }) => registry.functions.setAlias(actFor(c, caller, query.tenant), params.name, params.alias, body.version),
    ),
    route(
      {
        method: 'delete',
        path: '/v1/functions/:name/aliases/:alias',
        operationId: 'deleteAlias',
        summary: 'Remove an alias other than live',
        tag,
        params: AliasParams,
        query: TenantQuery,
        status: 204,
        errors: [403, 404, 409],
      },
      ({ c, caller, query, params }) => registry.functions.deleteAlias(actFor(c, caller, query.tenant), params.name, params.alias),
    ),
    route(
      {
        method: 'post',
        path: '/v1/functions/:name/rollback',
        operationId: 'rollback',
        summary: 'Move live to a version (default: the one below live); invocations follow at once',
        tag,
        params: FunctionParams,
        query: TenantQuery,
        body: RollbackBody,
        bodyLimit,
        status: 200,
        response: Rollback,
        errors: [403, 404, 409],
      },
      ({ c, caller, query, params, body }) => registry.functions.rollback(actFor(c, caller, query.tenant), params.name, body.version),
    ),
  ];
}
