/**
 * The x-fn-* response headers of an invocation. Set on every invocation response, success or
 * failure, from the one place that knows them, so a function cannot forge them (see invoke-io.ts).
 * Server-Timing, when the invocation answered, says where its time went (server-timing.ts).
 */
import type { InvocationMeta } from './context.js';

export const INVOCATION_ID_HEADER = 'x-fn-invocation-id';
export const COLD_START_HEADER = 'x-fn-cold-start';
export const DURATION_HEADER = 'x-fn-duration-ms';

export function setInvocationHeaders(headers: Headers, meta: InvocationMeta): void {
  headers.set(INVOCATION_ID_HEADER, meta.id);
  if (meta.cold !== undefined) headers.set(COLD_START_HEADER, String(meta.cold));
  // Microsecond precision is plenty and keeps the header short.
  if (meta.durationMs !== undefined) headers.set(DURATION_HEADER, String(Math.round(meta.durationMs * 1000) / 1000));
  if (meta.serverTiming) headers.set('server-timing', meta.serverTiming);
}
