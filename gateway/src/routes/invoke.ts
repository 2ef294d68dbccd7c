/**
 * Invocation endpoints: every method on /fn/<tenant>/<name>[@<selector>][/<path>] (invoke-target.ts)
 * → registry (who may invoke which version) → invoker → the function's status, headers and body,
 * plus x-fn-invocation-id, x-fn-cold-start and x-fn-duration-ms. One log record per invocation
 * that reached the invoker goes to the log sink, success or failure.
 *
 * Private functions need a key of their tenant (or an admin key); anyone may invoke a public one.
 * Without a key, a function that is private or missing answers 401 alike (existence is not
 * revealed); with another tenant's key it answers 404, as the registry does.
 */
import { checkRequestLimits, failureKind, FunctionError } from '@fn/contract';
import { NotFoundError, type Authenticated, type InvocationStatus, type LogLine, type RegistryApi as Registry, type VersionRecord } from '@fn/registry';
import { errorText, traceparentOf } from '@fn/telemetry';
import type { Context } from 'hono';
import { authenticate } from '../auth.js';
import { readBody } from '../body.js';
import type { GatewayEnv, InvocationMeta } from '../context.js';
import { withDeadline } from '../deadline.js';
import type { GatewayLimits, InvokeResult, Invoker } from '../deps.js';
import { BadRequestError, UnauthorizedError } from '../errors.js';
import { acceptAsync, isAsyncRequest, withoutInvocationType } from '../async/accept.js';
import type { AsyncQueue } from '../async/queue.js';
import { setInvocationHeaders } from '../invocation-headers.js';
import { forwardedIncomingHeaders, forwardedRequestHeaders, functionResponse, hasNoBody, incomingOf } from '../invoke-io.js';
import { parseTarget, type InvokeTarget } from '../invoke-target.js';
import { toLogLines, type LogSink } from '../log-sink.js';
import { serverTiming } from '../server-timing.js';
import { toUserSource } from '../source-mapping.js';
import type { SourceMaps } from '../source-map-files.js';

const EMPTY = new Uint8Array(0);

export interface InvokeDeps {
  registry: Registry;
  invoker: Invoker;
  logSink: LogSink;
  sourceMaps?: SourceMaps | undefined;
  limits: Pick<GatewayLimits, 'invokeBodyBytes' | 'invokeGraceMs'>;
  /** Where `x-fn-invocation-type: async` invocations are queued; without one they answer 400. */
  asyncQueue?: AsyncQueue | undefined;
}

export function invokeHandler(deps: InvokeDeps): (c: Context<GatewayEnv>) => Promise<Response> {
  return async (c) => {
    const started = performance.now();
    const target = parseTarget(new URL(c.req.url));
    c.set('tenant', target.tenant);
    const caller = authenticate(deps.registry, c.req.header('authorization'));
    c.set('caller', caller);
    const version = resolve(deps.registry, caller, target);
    // Per invocation, never in the snapshot: secrets stay encrypted at rest, changes apply at once.
    const env = deps.registry.env.envForInvocation(target.tenant, target.name, version);
    const registryMs = performance.now() - started;
    const meta: InvocationMeta = {
      id: c.get('requestId'),
      function: target.name,
      privileged: caller !== null && (caller.tenantId === null || caller.tenantId === target.tenant),
      timeoutMs: version.config.timeoutMs,
    };
    // The request is checked against the invocation contract's limits here, where it arrives;
    // no hop after this one checks it again. Served by Node, headers come from its raw list and a
    // request framed without a body is not read at all (no fetch Request is materialised).
    const incoming = incomingOf(c.env);
    const forwarded = incoming ? forwardedIncomingHeaders(incoming) : forwardedRequestHeaders(c.req.raw.headers);
    const async = isAsyncRequest(forwarded);
    if (async && !deps.asyncQueue)
      throw new BadRequestError('this gateway does not take asynchronous invocations (x-fn-invocation-type: async): invoke without that header');
    const headers = async ? withoutInvocationType(forwarded) : forwarded;
    checkRequestLimits({ url: target.url, headers });
    const body = incoming && hasNoBody(incoming) ? EMPTY : await readBody(c.req.raw, deps.limits.invokeBodyBytes, 'invocation body');
    // From here on there is an invocation: its id goes on every answer and into the logs.
    c.set('invocation', meta);
    if (async && deps.asyncQueue) {
      const { timeoutMs, memoryMiB, maxConcurrency } = version.config;
      return acceptAsync(c, deps.asyncQueue, {
        id: meta.id,
        tenant: target.tenant,
        function: target.name,
        version: version.version,
        snapshotKey: version.snapshotDigest,
        limits: { timeoutMs, memoryMiB, maxConcurrency },
        request: { method: c.req.method, url: target.url, headers, body },
        createdAt: Date.now(),
      });
    }

    const at = Date.now();
    const called = performance.now();
    // Console output and stacks name bundle lines (fn:function:N): put back into the user's files
    // here, before the record is stored and the error answered, so `fn logs` shows them as written.
    const record = async (status: InvocationStatus, durationMs: number, cold: boolean, logs: LogLine[]) => {
      const mapped = await toUserSource(deps.sourceMaps, version.bundleDigest, logs);
      deps.logSink.add({
        tenant: target.tenant,
        function: target.name,
        version: version.version,
        invocationId: meta.id,
        status,
        durationMs,
        cold,
        logs: mapped,
        at,
      });
    };
    let result: InvokeResult;
    try {
      const { timeoutMs, memoryMiB, maxConcurrency } = version.config;
      result = await withDeadline(`invocation ${meta.id}`, timeoutMs + deps.limits.invokeGraceMs, (signal) =>
        deps.invoker.invoke({
          invocationId: meta.id,
          tenant: target.tenant,
          function: target.name,
          version: version.version,
          snapshotKey: version.snapshotDigest,
          env,
          request: { method: c.req.method, url: target.url, headers, body },
          limits: { timeoutMs, memoryMiB, maxConcurrency },
          traceparent: traceparentOf(c.get('trace')),
          signal,
        }),
      );
    } catch (error) {
      const elapsed = performance.now() - called;
      await record(failureStatus(error), elapsed, false, [...carriedLogs(error), { level: 'error', message: `[fn] ${errorText(error)}`, ms: elapsed }]);
      throw error;
    }
    const callMs = performance.now() - called;

    const durationMs = result.timings.worker ?? callMs;
    meta.cold = result.cold;
    meta.durationMs = durationMs;
    const lines = toLogLines(result.logs);
    if (result.error) {
      const { name, message } = result.error;
      const [stack] = result.error.stack ? await toUserSource(deps.sourceMaps, version.bundleDigest, [result.error.stack]) : [undefined];
      await record('error', durationMs, result.cold, [
        ...lines,
        { level: 'error', message: `[fn] uncaught ${name}: ${message}${stack ? `\n${stack}` : ''}`, ms: durationMs },
      ]);
      throw new FunctionError(name, message, stack ? { jsStack: stack } : {});
    }
    await record('ok', durationMs, result.cold, lines);
    const response = functionResponse(result.response, c.req.method);
    meta.serverTiming = serverTiming({ total: performance.now() - started, registry: registryMs, call: callMs }, result.timings);
    setInvocationHeaders(response, meta);
    return response;
  };
}

function resolve(registry: Registry, caller: Authenticated | null, target: InvokeTarget): VersionRecord {
  try {
    return registry.functions.resolveForInvocation(caller, target.tenant, target.name, target.selector);
  } catch (error) {
    if (caller === null && (error instanceof NotFoundError || (error as Error).name === 'NotFoundError')) {
      throw new UnauthorizedError(
        `"${target.name}" of tenant "${target.tenant}" is not a public function: invoke it with "Authorization: Bearer <API key>" of its tenant`,
      );
    }
    throw error;
  }
}

/** The invocation record's status for a failure, by its kind. */
export function failureStatus(error: unknown): InvocationStatus {
  switch (failureKind(error)) {
    case 'timeout':
      return 'timeout';
    case 'crashed':
    case 'out_of_memory':
      return 'crashed';
    case 'overloaded':
    case 'unavailable':
      return 'rejected';
    default:
      return 'error';
  }
}

/** Console output the invoker attached to its error (a timeout after some logging, say). */
function carriedLogs(error: unknown): LogLine[] {
  const logs = (error as { logs?: unknown } | null)?.logs;
  if (!Array.isArray(logs)) return [];
  const wellFormed = logs.filter(
    (l): l is InvokeResult['logs'][number] => typeof l?.message === 'string' && typeof l?.level === 'string' && typeof l?.ms === 'number',
  );
  return toLogLines(wellFormed);
}
