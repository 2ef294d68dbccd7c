/**
 * One structured JSON line per request: method, path (never the query string, which may carry
 * anything), status, duration, tenant, invocation id. Never a header or a body: those may hold
 * keys and secrets. Every response carries the request id, which is also the invocation id.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { GatewayEnv } from './context.js';
import type { Logger } from './deps.js';
import { setResponseHeader } from './response-headers.js';

export const REQUEST_ID_HEADER = 'x-fn-request-id';

export function requestLog(logger: Logger): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = randomUUID();
    c.set('requestId', requestId);
    c.set('caller', null);
    c.set('tenant', undefined);
    c.set('invocation', undefined);
    await next();
    setResponseHeader(c.res, REQUEST_ID_HEADER, requestId);
    logger({
      level: 'info',
      msg: 'request',
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      tenant: c.get('tenant') ?? null,
      invocationId: c.get('invocation')?.id ?? null,
    });
  };
}

export const stdoutLogger: Logger = (line) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
};
