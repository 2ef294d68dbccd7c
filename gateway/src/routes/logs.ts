/**
 * Invocation logs of the tenant's function: console output, status, duration, cold or warm. The
 * registry scopes them by tenant; retention is the registry's (7 days, 10,000 per function by
 * default). Logs outlive a deleted function, so a missing function is not an error here.
 */
import type { RegistryApi as Registry } from '@fn/registry';
import { actFor } from '../auth.js';
import type { LogSink } from '../log-sink.js';
import { route, type Route } from '../route-book.js';
import { FunctionParams, LogPage, LogsQuery } from '../schemas.js';

export function logRoutes(registry: Registry, sink: LogSink): Route[] {
  return [
    route(
      {
        method: 'get',
        path: '/v1/functions/:name/logs',
        operationId: 'queryLogs',
        summary: 'Invocation records: the newest `limit`, or (with ?after=<cursor>) those after the cursor, oldest first',
        tag: 'logs',
        params: FunctionParams,
        query: LogsQuery,
        status: 200,
        response: LogPage,
        errors: [403, 404],
      },
      async ({ c, caller, query, params }) => {
        const tenant = actFor(c, caller, query.tenant);
        // Read your own invocations: records still waiting in the batch are written first.
        await sink.flush();
        return registry.logs.query(tenant, params.name, {
          ...(query.after !== undefined ? { afterId: query.after } : {}),
          ...(query.limit !== undefined ? { limit: query.limit } : {}),
          ...(query.since !== undefined ? { since: query.since } : {}),
        });
      },
    ),
  ];
}
