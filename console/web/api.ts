/**
 * The control API as the console calls it: the key as a Bearer header, the tenant as ?tenant= for
 * an admin key (a tenant key acts for its own tenant, as everywhere in fn). Errors carry the
 * gateway's own message, which already says what to do.
 */
import type { Session } from './session.js';
import { SseParser, type SseEvent } from './sse-parser.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string,
  ) {
    super(message);
  }
}

export interface LogLine {
  level: string;
  message: string;
  ms: number;
}
export interface InvocationRecord {
  id: number;
  function: string;
  version: number;
  invocationId: string;
  status: 'ok' | 'error' | 'timeout' | 'crashed' | 'rejected';
  durationMs: number;
  cold: boolean;
  logs: LogLine[];
  at: number;
}
export interface LastInvocation {
  status: InvocationRecord['status'];
  cold: boolean;
  durationMs: number;
  at: number;
  version: number;
}
export interface ConsoleFunction {
  name: string;
  liveVersion: number | null;
  latestVersion: number | null;
  public: boolean | null;
  aliases: { name: string; version: number }[];
  pool: { idle: number; busy: number };
  lastInvocation: LastInvocation | null;
  updatedAt: number;
}
export interface ConsoleVersion {
  version: number;
  createdAt: number;
  config: { entry: string; memoryMiB: number; timeoutMs: number; maxConcurrency: number; public: boolean };
  bundleDigest: string;
  envNames: string[];
}
export interface ConsoleFunctionDetail extends ConsoleFunction {
  versions: ConsoleVersion[];
  envNames: string[];
  secretNames: string[];
}
export interface PoolSamples {
  intervalMs: number;
  now: number;
  samples: { at: number; idle: number; busy: number }[];
}
export interface Whoami {
  keyId: string;
  tenant: string | null;
  admin: boolean;
}
export interface InvokeOutcome {
  status: number;
  cold: boolean | null;
  durationMs: number | null;
  invocationId: string | null;
  body: string;
}

export class Api {
  constructor(readonly session: Pick<Session, 'key' | 'tenant' | 'admin'>) {}

  whoami(): Promise<Whoami> {
    return this.call('GET', '/v1/whoami', {}, false);
  }
  tenants(): Promise<{ tenants: { id: string }[] }> {
    return this.call('GET', '/v1/tenants', {}, false);
  }
  functions(): Promise<{ tenant: string; functions: ConsoleFunction[] }> {
    return this.call('GET', '/v1/console/functions');
  }
  function(name: string): Promise<ConsoleFunctionDetail> {
    return this.call('GET', `/v1/console/functions/${encodeURIComponent(name)}`);
  }
  pools(name: string, since: number): Promise<PoolSamples> {
    return this.call('GET', `/v1/console/functions/${encodeURIComponent(name)}/pools`, { since: String(Math.max(0, Math.floor(since))) });
  }
  recent(name: string, limit = 100): Promise<{ records: InvocationRecord[]; cursor: number }> {
    return this.call('GET', `/v1/functions/${encodeURIComponent(name)}/logs`, { limit: String(limit) });
  }
  rollback(name: string, version?: number): Promise<{ from: number | null; to: number }> {
    return this.call('POST', `/v1/functions/${encodeURIComponent(name)}/rollback`, {}, true, version === undefined ? {} : { version });
  }

  /** Invokes the live version with GET / (the function's tenant is the session's). */
  async invoke(name: string): Promise<InvokeOutcome> {
    const res = await fetch(`/fn/${encodeURIComponent(this.session.tenant)}/${encodeURIComponent(name)}`, {
      headers: { authorization: `Bearer ${this.session.key}` },
    });
    const cold = res.headers.get('x-fn-cold-start');
    const duration = res.headers.get('x-fn-duration-ms');
    return {
      status: res.status,
      cold: cold === null ? null : cold === 'true',
      durationMs: duration === null ? null : Number(duration),
      invocationId: res.headers.get('x-fn-invocation-id'),
      body: (await res.text()).slice(0, 2_000),
    };
  }

  /**
   * Follows the function's live tail until `signal` aborts: each record once, in order, across
   * the gateway ending a stream (it does every minute) or a dropped connection.
   */
  async tail(name: string, onRecord: (record: InvocationRecord) => void, signal: AbortSignal, onState?: (live: boolean) => void): Promise<void> {
    let after: string | undefined;
    while (!signal.aborted) {
      try {
        const query: Record<string, string> = after === undefined ? {} : { after };
        const res = await fetch(this.url(`/v1/console/functions/${encodeURIComponent(name)}/tail`, query, true), {
          headers: { authorization: `Bearer ${this.session.key}`, accept: 'text/event-stream' },
          signal,
        });
        if (!res.ok || !res.body) throw await apiError(res);
        onState?.(true);
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) after = handle(event, onRecord) ?? after;
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && (error.status === 401 || error.status === 404)) throw error;
      }
      onState?.(false);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  private url(path: string, query: Record<string, string>, scoped: boolean): string {
    const params = new URLSearchParams(query);
    if (scoped && this.session.admin) params.set('tenant', this.session.tenant);
    const qs = params.toString();
    return qs ? `${path}?${qs}` : path;
  }

  private async call<T>(method: string, path: string, query: Record<string, string> = {}, scoped = true, body?: unknown): Promise<T> {
    const res = await fetch(this.url(path, query, scoped), {
      method,
      headers: { authorization: `Bearer ${this.session.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw await apiError(res);
    return (await res.json()) as T;
  }
}

function handle(event: SseEvent, onRecord: (record: InvocationRecord) => void): string | undefined {
  if (event.event === 'ready') return String((JSON.parse(event.data) as { cursor: number }).cursor);
  if (event.event === 'invocation') {
    onRecord(JSON.parse(event.data) as InvocationRecord);
    return event.id;
  }
  return undefined;
}

async function apiError(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { message?: string; type?: string } };
    return new ApiError(body.error?.message ?? `HTTP ${res.status}`, res.status, body.error?.type ?? 'unknown');
  } catch {
    return new ApiError(`HTTP ${res.status} ${res.statusText}`, res.status, 'unknown');
  }
}
