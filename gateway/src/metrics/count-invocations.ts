/**
 * Counts each invocation once it has been answered: its outcome, cold or warm, its duration, and
 * its failure kind. Only requests that became invocations (a deployed function, an accepted key)
 * are counted, so a scan of made-up URLs cannot grow the series without bound.
 */
import { failureKind } from '@fn/contract';
import type { Context } from 'hono';
import type { GatewayEnv } from '../context.js';
import type { GatewayMetrics, StartLabel } from './gateway-metrics.js';

type Handler = (c: Context<GatewayEnv>) => Promise<Response>;

/** The invocation handler, counted. */
export function countInvocations(metrics: GatewayMetrics, handler: Handler): Handler {
  return async (c) => {
    let res: Response;
    try {
      res = await handler(c);
    } catch (error) {
      count(c, metrics, error, 0);
      throw error;
    }
    count(c, metrics, undefined, res.status);
    return res;
  };
}

function count(c: Context<GatewayEnv>, metrics: GatewayMetrics, error: unknown, status: number): void {
  const meta = c.get('invocation');
  const tenant = c.get('tenant');
  if (!meta || meta.function === undefined || tenant === undefined) return;
  const start: StartLabel = meta.cold === undefined ? 'none' : meta.cold ? 'cold' : 'warm';
  const seconds = meta.durationMs === undefined ? undefined : meta.durationMs / 1000;
  if (error !== undefined) {
    const kind = failureKind(error) ?? 'internal';
    metrics.invocation(tenant, meta.function, kind, start, seconds);
    metrics.failure(tenant, meta.function, kind);
    return;
  }
  // An asynchronous invocation is answered 202 before it runs: counted as queued here.
  metrics.invocation(tenant, meta.function, status === 202 && meta.cold === undefined ? 'queued' : 'ok', start, seconds);
}
