/**
 * Probes for Kubernetes and load balancers, with no key and nothing tenant-specific in them:
 *
 *   GET /healthz   200 while the process serves HTTP at all (liveness)
 *   GET /readyz    200 when every readiness check passes (the registry, the snapshot store, at least
 *                  one worker with a base snapshot), else 503 with the checks that failed and why
 */
import type { Hono } from 'hono';
import type { GatewayEnv } from '../context.js';

/** One part the gateway needs: ok, or why not (said to an operator: what to look at). */
export type CheckResult = { ok: true } | { ok: false; reason: string };

/** Named checks, each cheap (a probe may come every few seconds). */
export type ReadinessChecks = Record<string, () => CheckResult | Promise<CheckResult>>;

export function mountHealth(app: Hono<GatewayEnv>, checks: ReadinessChecks | undefined): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store' }));
  app.get('/readyz', async (c) => {
    const results: Record<string, string> = {};
    const notReady: string[] = [];
    await Promise.all(
      Object.entries(checks ?? {}).map(async ([name, check]) => {
        let result: CheckResult;
        try {
          result = await check();
        } catch (error) {
          result = { ok: false, reason: `the check failed: ${(error as Error).message}` };
        }
        results[name] = result.ok ? 'ok' : result.reason;
        if (!result.ok) notReady.push(name);
      }),
    );
    if (checks === undefined) {
      notReady.push('platform');
      results.platform = 'this gateway was started without readiness checks';
    }
    notReady.sort();
    const ready = notReady.length === 0;
    return c.json({ status: ready ? 'ready' : 'not ready', ...(ready ? {} : { notReady }), checks: results }, ready ? 200 : 503, {
      'cache-control': 'no-store',
    });
  });
}
