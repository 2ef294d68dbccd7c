/**
 * GET /metrics: the Prometheus text exposition. It spans every tenant, so it takes the admin key
 * or the metrics token (`fn up --metrics-token`, FN_METRICS_TOKEN) as a bearer token; a tenant's
 * key is refused (403) and no key at all is a 401 that says which to send.
 */
import { timingSafeEqual } from 'node:crypto';
import { ForbiddenError, isAdmin, type RegistryApi as Registry } from '@fn/registry';
import type { Context } from 'hono';
import type { GatewayEnv } from '../context.js';
import { UnauthorizedError } from '../errors.js';
import type { GatewayMetrics } from './gateway-metrics.js';

export interface MetricsRouteOptions {
  registry: Registry;
  metrics: GatewayMetrics;
  /** A bearer token that may read /metrics and nothing else. */
  token?: string | undefined;
}

const ASK = 'send "Authorization: Bearer <admin key>" or the metrics token (fn up --metrics-token, or FN_METRICS_TOKEN) as "Authorization: Bearer <token>"';

export function metricsHandler(options: MetricsRouteOptions): (c: Context<GatewayEnv>) => Promise<Response> {
  const token = options.token ? Buffer.from(options.token) : undefined;
  return async (c) => {
    const header = c.req.header('authorization');
    if (header === undefined) throw new UnauthorizedError(`/metrics needs the admin key or the metrics token: ${ASK}`);
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) throw new UnauthorizedError(`the Authorization header must be "Bearer <token>": ${ASK}`);
    const presented = Buffer.from(match[1]!);
    const isToken = token !== undefined && presented.length === token.length && timingSafeEqual(presented, token);
    if (!isToken) {
      const caller = options.registry.keys.authenticate(match[1]!);
      if (!caller) throw new UnauthorizedError(`that is neither a valid API key nor the metrics token: ${ASK}`);
      if (!isAdmin(caller))
        throw new ForbiddenError('/metrics spans every tenant: a tenant key cannot read it — use the admin key or the metrics token (FN_METRICS_TOKEN)');
    }
    const body = await options.metrics.render();
    return c.body(body, 200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' });
  };
}
