/**
 * Counts each invocation once it has been answered: its outcome, cold or warm, its duration, and
 * its failure kind. Only requests that became invocations (a deployed function, an accepted key)
 * are counted, so a scan of made-up URLs cannot grow the series without bound.
 */
import { failureKind } from '@fn/contract';
import type { MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../context.js';
import type { GatewayMetrics, StartLabel } from './gateway-metrics.js';

export function countInvocations(metrics: GatewayMetrics): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    await next();
    const meta = c.get('invocation');
    const tenant = c.get('tenant');
    if (!meta || meta.function === undefined || tenant === undefined) return;
    const start: StartLabel = meta.cold === undefined ? 'none' : meta.cold ? 'cold' : 'warm';
    // hono hands a thrown error to onError and keeps it on the context: its kind is the outcome.
    if (c.error) {
      const kind = failureKind(c.error) ?? 'internal';
      metrics.invocation(tenant, meta.function, kind, start, seconds(meta.durationMs));
      metrics.failure(tenant, meta.function, kind);
      return;
    }
    const status = c.res.status === 202 && meta.cold === undefined ? 'queued' : 'ok';
    metrics.invocation(tenant, meta.function, status, start, seconds(meta.durationMs));
  };
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
