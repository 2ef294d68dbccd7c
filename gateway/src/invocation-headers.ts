/**
 * The x-fn-* response headers of an invocation. Set on every invocation response, success or
 * failure, from the one place that knows them, so a function cannot forge them (see invoke-io.ts).
 * Server-Timing, when the invocation answered, says where its time went (server-timing.ts).
 */
import type { InvocationMeta } from './context.js';
import { setResponseHeader } from './response-headers.js';

export const INVOCATION_ID_HEADER = 'x-fn-invocation-id';
export const COLD_START_HEADER = 'x-fn-cold-start';
export const DURATION_HEADER = 'x-fn-duration-ms';

export function setInvocationHeaders(response: Response, meta: InvocationMeta): void {
  setResponseHeader(response, INVOCATION_ID_HEADER, meta.id);
  if (meta.cold !== undefined) setResponseHeader(response, COLD_START_HEADER, String(meta.cold));
  // Microsecond precision is plenty and keeps the header short.
  if (meta.durationMs !== undefined) setResponseHeader(response, DURATION_HEADER, String(Math.round(meta.durationMs * 1000) / 1000));
  if (meta.serverTiming) setResponseHeader(response, 'server-timing', meta.serverTiming);
}
