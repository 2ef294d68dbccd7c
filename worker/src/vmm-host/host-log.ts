/**
 * The VMM host's lines about an invocation: each carries the invocation id and the trace id the
 * worker sent (VmRequest.traceparent), through a pino child logger, so the host's output can be
 * joined with the gateway's, the scheduler's and the worker's. One debug line per invocation (off
 * at the default level), a warning when one fails.
 */
import type { VmRequest } from '@fn/contract';
import { errorText, traceIdOf, type Logger } from '@fn/telemetry';

export function logHostInvocation(log: Logger, vmId: string, request: VmRequest, ms: number, error?: unknown): void {
  if (error === undefined && !log.isLevelEnabled('debug')) return;
  const line = log.child({ invocationId: request.invocationId, traceId: traceIdOf(request.traceparent) });
  const fields = { vmId, ms: Math.round(ms * 1000) / 1000 };
  if (error === undefined) line.debug(fields, 'invocation done');
  else line.warn({ ...fields, error: errorText(error) }, 'invocation failed');
}
