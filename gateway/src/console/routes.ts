/**
 * The console's API (/v1/console/...): what its pages need, one answer each, behind the same keys
 * and tenant rule as the rest of the control API (auth.ts: a tenant key sees its own tenant, an
 * admin names one). It reads what other routes read and shows less: env var names, never values.
 * Rollback, recent invocations and invoking are the existing routes; the console calls them.
 */
import type { RegistryApi as Registry } from '@fn/registry';
import { actFor } from '../auth.js';
import type { LogSink } from '../log-sink.js';
import { route, type Route } from '../route-book.js';
import { FunctionParams } from '../schemas.js';
import { LogTails, type TailOptions } from './log-tail.js';
import type { PoolHistoryView } from './pool-history.js';
import { ConsoleFunctionDetail, ConsoleFunctionList, ConsoleTenantQuery, PoolHistoryAnswer, PoolHistoryQuery, TailEvent, TailQuery } from './schemas.js';

export interface ConsoleRouteDeps {
  registry: Registry;
  logSink: LogSink;
  /** Pool sizes reported by the workers; without it pools read as empty. */
  poolHistory?: PoolHistoryView | undefined;
  tail?: TailOptions;
}

const NO_POOLS: PoolHistoryView = { intervalMs: 1_000, samples: () => [], current: () => ({ idle: 0, busy: 0 }) };

export function consoleRoutes(deps: ConsoleRouteDeps): Route[] {
  const { registry } = deps;
  const pools = deps.poolHistory ?? NO_POOLS;
  const tails = new LogTails(registry, deps.logSink, deps.tail);
  const tag = 'console';

  /** The snapshot keys of a function's versions: its pools, as the workers name them. */
  const poolKeys = (tenant: string, name: string) => new Set(registry.functions.versions(tenant, name).map((v) => v.snapshotDigest));
  const lastInvocation = (tenant: string, name: string) => {
    const newest = registry.logs.query(tenant, name, { limit: 1 }).records[0];
    return newest ? { status: newest.status, cold: newest.cold, durationMs: newest.durationMs, at: newest.at, version: newest.version } : null;
  };

  return [
    route(
      {
        method: 'get',
        path: '/v1/console/functions',
        operationId: 'consoleFunctions',
        summary: "The tenant's functions with live version, aliases, warm VMs and last invocation",
        tag,
        query: ConsoleTenantQuery,
        status: 200,
        response: ConsoleFunctionList,
        errors: [403, 404],
      },
      async ({ c, caller, query }) => {
        const tenant = actFor(c, caller, query.tenant);
        await deps.logSink.flush();
        const functions = registry.functions.list(tenant).map((f) => {
          const d = registry.functions.describe(tenant, f.name);
          return {
            name: f.name,
            liveVersion: f.liveVersion,
            latestVersion: f.latestVersion,
            public: f.public,
            aliases: d.aliases.map((a) => ({ name: a.name, version: a.version })),
            pool: pools.current(d.versions.map((v) => v.snapshotDigest)),
            lastInvocation: lastInvocation(tenant, f.name),
            updatedAt: f.updatedAt,
          };
        });
        return { tenant, functions };
      },
    ),
    route(
      {
        method: 'get',
        path: '/v1/console/functions/:name',
        operationId: 'consoleFunction',
        summary: 'One function for its console page: deploy history, aliases, env and secret names (never values), warm VMs',
        tag,
        params: FunctionParams,
        query: ConsoleTenantQuery,
        status: 200,
        response: ConsoleFunctionDetail,
        errors: [403, 404],
      },
      async ({ c, caller, query, params }) => {
        const tenant = actFor(c, caller, query.tenant);
        await deps.logSink.flush();
        const d = registry.functions.describe(tenant, params.name);
        const live = d.versions.find((v) => v.version === d.liveVersion);
        return {
          name: d.name,
          liveVersion: d.liveVersion,
          latestVersion: d.latestVersion,
          public: d.public,
          aliases: d.aliases.map((a) => ({ name: a.name, version: a.version })),
          pool: pools.current(d.versions.map((v) => v.snapshotDigest)),
          lastInvocation: lastInvocation(tenant, d.name),
          updatedAt: d.updatedAt,
          versions: d.versions
            .map((v) => ({ version: v.version, createdAt: v.createdAt, config: v.config, bundleDigest: v.bundleDigest, envNames: Object.keys(v.env).sort() }))
            .reverse(),
          envNames: Object.keys(live?.env ?? {}).sort(),
          secretNames: d.secrets,
        };
      },
    ),
    route(
      {
        method: 'get',
        path: '/v1/console/functions/:name/pools',
        operationId: 'consolePools',
        summary: "A function's warm and busy VMs over the last minutes, as the workers reported them",
        tag,
        params: FunctionParams,
        query: PoolHistoryQuery,
        status: 200,
        response: PoolHistoryAnswer,
        errors: [403, 404],
      },
      ({ c, caller, query, params }) => {
        const tenant = actFor(c, caller, query.tenant);
        return { intervalMs: pools.intervalMs, now: Date.now(), samples: pools.samples(poolKeys(tenant, params.name), query.since ?? 0) };
      },
    ),
    route(
      {
        method: 'get',
        path: '/v1/console/functions/:name/tail',
        operationId: 'consoleTail',
        summary: "A live tail of the function's invocation records (server-sent events: `ready`, then one `invocation` per record, its id the cursor)",
        tag,
        params: FunctionParams,
        query: TailQuery,
        status: 200,
        response: TailEvent,
        produces: 'text/event-stream',
        errors: [403, 404, 429],
      },
      ({ c, caller, query, params }) => tails.stream(c, actFor(c, caller, query.tenant), params.name, query.after),
    ),
  ];
}
