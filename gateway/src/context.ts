/**
 * What one request carries through the middleware chain (hono context variables): who is calling,
 * which tenant it acts for, and, for invocations, what the response headers and logs must say.
 */
import type { Authenticated } from '@fn/registry';
import type { HopSpan } from '@fn/telemetry';

export interface InvocationMeta {
  id: string;
  /** The function's name (its tenant is GatewayVariables.tenant), for the metrics. */
  function?: string;
  /** The owner or an admin: may see its function's error messages. */
  privileged: boolean;
  timeoutMs?: number;
  cold?: boolean;
  durationMs?: number;
  /** The Server-Timing header value (server-timing.ts), once the invocation answered. */
  serverTiming?: string;
}

export interface GatewayVariables {
  requestId: string;
  /** Control API: always set (auth is required). Invocations: null when no key was presented. */
  caller: Authenticated | null;
  /** The tenant this request acts for or invokes, for the request log. */
  tenant: string | undefined;
  invocation: InvocationMeta | undefined;
  /** The gateway's span: in the caller's trace (its traceparent) or in a new one (request-log.ts). */
  trace: HopSpan;
}

export type GatewayEnv = { Variables: GatewayVariables };
