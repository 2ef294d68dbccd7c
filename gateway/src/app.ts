/**
 * createApp(deps): the gateway as a hono app, every part it talks to injected (deps.ts).
 *
 *   /openapi.json                      the API description (no key)
 *   /healthz, /readyz                  probes (no key: routes/health.ts)
 *   /metrics                           Prometheus series (admin key or metrics token: metrics/)
 *   /v1/...                            the control API (a key is required: auth.ts)
 *   /fn/<tenant>/<name>[@<sel>]/...    invocations, every method (routes/invoke.ts); with
 *                                      x-fn-invocation-type: async, queued (async/)
 *   /console/                          the web console's files (console/); its API is /v1/console
 *
 * Errors of every route end in error-mapping.ts; every request is logged once (request-log.ts).
 */
import { Hono } from 'hono';
import { requireKey } from './auth.js';
import { consoleRoutes } from './console/routes.js';
import { consoleFiles, defaultConsoleDir } from './console/static-files.js';
import type { GatewayEnv } from './context.js';
import { DEFAULT_LIMITS, type GatewayDeps } from './deps.js';
import { errorResponse } from './error-mapping.js';
import { RouteNotFoundError } from './errors.js';
import { registryLogSink } from './log-sink.js';
import { countInvocations } from './metrics/count-invocations.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { metricsHandler } from './metrics/metrics-route.js';
import { openApiDocument } from './openapi.js';
import { requestLog, stdoutLogger } from './request-log.js';
import { mount, type Route } from './route-book.js';
import { configRoutes } from './routes/config.js';
import { functionRoutes } from './routes/functions.js';
import { mountHealth } from './routes/health.js';
import { identityRoutes } from './routes/identity.js';
import { invocationRoutes } from './routes/invocations.js';
import { invokeHandler } from './routes/invoke.js';
import { logRoutes } from './routes/logs.js';
import { statusRoutes } from './routes/status.js';

export function createApp(deps: GatewayDeps): Hono<GatewayEnv> {
  const { registry } = deps;
  const logger = deps.logger ?? stdoutLogger;
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  // A process that must not lose the last batch on shutdown passes its own sink and closes it.
  const logSink = deps.logSink ?? registryLogSink(registry, logger);

  const app = new Hono<GatewayEnv>();
  app.use('*', requestLog(logger));
  app.onError((error, c) => errorResponse(error, c, logger));
  app.notFound((c) => errorResponse(new RouteNotFoundError(`no route for ${c.req.method} ${c.req.path} — see /openapi.json`), c, logger));

  const routes: Route[] = [
    ...identityRoutes(registry, limits.controlBodyBytes),
    ...functionRoutes({
      registry,
      deployer: deps.deployer,
      snapshots: deps.snapshots,
      sourceMaps: deps.sourceMaps,
      deployTimeoutMs: limits.deployTimeoutMs,
      deploysPerTenant: limits.deploysPerTenant,
      deployBodyBytes: limits.deployBodyBytes,
      controlBodyBytes: limits.controlBodyBytes,
    }),
    ...configRoutes(registry, limits.controlBodyBytes),
    ...logRoutes(registry, logSink),
    ...statusRoutes(deps.snapshots),
    ...invocationRoutes(deps.asyncQueue),
    ...consoleRoutes({ registry, logSink, poolHistory: deps.poolHistory, tail: { ...(deps.closing ? { closing: deps.closing } : {}) } }),
  ];
  const document = openApiDocument(routes);
  app.get('/openapi.json', (c) => c.json(document));
  mountHealth(app, deps.readiness);
  const metrics = deps.metrics ?? new GatewayMetrics();
  app.get('/metrics', metricsHandler({ registry, metrics, token: deps.metricsToken }));

  const files = consoleFiles('consoleDir' in deps ? deps.consoleDir : defaultConsoleDir());
  app.get('/console', (c) => c.redirect('/console/', 301));
  app.get('/console/*', files);

  app.use('/v1/*', requireKey(registry));
  mount(app, routes);

  const invoke = countInvocations(
    metrics,
    invokeHandler({ registry, invoker: deps.invoker, logSink, sourceMaps: deps.sourceMaps, limits, asyncQueue: deps.asyncQueue }),
  );
  app.all('/fn/:tenant/:function', invoke);
  app.all('/fn/:tenant/:function/*', invoke);
  return app;
}
