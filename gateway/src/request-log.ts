/**
 * One structured JSON line per request: method, path (never the query string, which may carry
 * anything), status, duration, tenant, invocation id, trace id. Never a header or a body: those may
 * hold keys and secrets (and the logger redacts them anyway: @fn/telemetry). Every response carries
 * the request id, which is also the invocation id, and a `traceparent` naming the gateway's span.
 *
 * The trace: a valid W3C `traceparent` from the caller is continued, anything else (absent or
 * malformed) starts a new trace. The gateway's span goes to the OTLP exporter when one is on.
 */
import { randomUUID } from 'node:crypto';
import { childSpan, epochMs, parseTraceparent, recordHop, rootLogger, lineLogger, traceparentOf, tracingOn, TRACEPARENT_HEADER } from '@fn/telemetry';
import type { MiddlewareHandler } from 'hono';
import type { GatewayEnv } from './context.js';
import type { Logger } from './deps.js';
import { setResponseHeader } from './response-headers.js';

export const REQUEST_ID_HEADER = 'x-fn-request-id';

export function requestLog(logger: Logger): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = randomUUID();
    const trace = childSpan(parseTraceparent(c.req.header(TRACEPARENT_HEADER)));
    c.set('requestId', requestId);
    c.set('caller', null);
    c.set('tenant', undefined);
    c.set('invocation', undefined);
    c.set('trace', trace);
    await next();
    setResponseHeader(c.res, REQUEST_ID_HEADER, requestId);
    setResponseHeader(c.res, TRACEPARENT_HEADER, traceparentOf(trace));
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    const tenant = c.get('tenant') ?? null;
    const invocationId = c.get('invocation')?.id ?? null;
    logger({
      level: 'info',
      msg: 'request',
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs,
      tenant,
      invocationId,
      traceId: trace.traceId,
    });
    if (tracingOn()) {
      recordHop(
        trace,
        'gateway',
        epochMs(started),
        epochMs(),
        {
          'http.request.method': c.req.method,
          'url.path': c.req.path,
          'http.response.status_code': c.res.status,
          'fn.tenant': tenant ?? undefined,
          'fn.invocation_id': invocationId ?? undefined,
          'fn.request_id': requestId,
        },
        { error: c.res.status >= 500 ? `HTTP ${c.res.status}` : undefined },
      );
    }
  };
}

/** JSON lines on stdout through pino (asynchronously: the write is not on the response's path). */
let stdout: Logger | undefined;
export const stdoutLogger: Logger = (line) => {
  stdout ??= lineLogger(rootLogger()); // made on first use: importing the gateway opens nothing
  stdout(line);
};
