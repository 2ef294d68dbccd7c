/**
 * The console's live log tail: a function's new invocation records as server-sent events, read the
 * way `fn logs --follow` reads them (the registry's id cursor, after flushing the batch so a caller
 * sees its own invocations), so every record reaches the tail whichever path wrote it: synchronous
 * invocations, asynchronous attempts, another process sharing the data directory.
 *
 * A stream is bounded three ways: it ends after `maxStreamMs` (the console reconnects with the last
 * event id, so nothing is missed), when the gateway is closing (a server waits for open responses,
 * and a tail never finishes on its own), and a tenant holds at most `perTenant` streams at once.
 */
import { OverloadedError } from '@fn/contract';
import type { RegistryApi as Registry } from '@fn/registry';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { GatewayEnv } from '../context.js';
import type { LogSink } from '../log-sink.js';

export interface TailOptions {
  /** How often the registry is read for new records (default 500 ms). */
  pollMs?: number;
  /** A stream ends after this, to be resumed by the client (default 60 s). */
  maxStreamMs?: number;
  /** A comment line this often keeps proxies from closing a quiet stream (default 15 s). */
  keepAliveMs?: number;
  /** Open tails per tenant (default 10); more answer 429. */
  perTenant?: number;
  /** Aborted when the gateway stops serving: open tails end so the server can close. */
  closing?: AbortSignal;
}

const PAGE = 100;

export class LogTails {
  private readonly open = new Map<string, number>();
  private readonly pollMs: number;
  private readonly maxStreamMs: number;
  private readonly keepAliveMs: number;
  private readonly perTenant: number;

  constructor(
    private readonly registry: Registry,
    private readonly sink: LogSink,
    private readonly options: TailOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 500;
    this.maxStreamMs = options.maxStreamMs ?? 60_000;
    this.keepAliveMs = options.keepAliveMs ?? 15_000;
    this.perTenant = options.perTenant ?? 10;
  }

  /** The stream of `name`'s records after `after` (default: from now on). Scoped by `tenant`, as the registry scopes every read. */
  async stream(c: Context<GatewayEnv>, tenant: string, name: string, after: number | undefined): Promise<Response> {
    // Read before streaming: a function the tenant does not own is a 404 now, not an error event.
    this.registry.functions.describe(tenant, name);
    // "From now on" includes what was invoked before this request: records still in the batch too.
    await this.sink.flush();
    const start = after ?? this.registry.logs.query(tenant, name, { limit: 1 }).cursor;
    const release = this.take(tenant);
    return streamSSE(c, async (stream) => {
      const stop = new AbortController();
      const end = () => stop.abort();
      stream.onAbort(end);
      c.req.raw.signal.addEventListener('abort', end, { once: true });
      this.options.closing?.addEventListener('abort', end, { once: true });
      const deadline = setTimeout(end, this.maxStreamMs);
      try {
        if (this.options.closing?.aborted) return;
        // Tells the client where it stands and how soon to come back once the stream ends.
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ cursor: start }), retry: 1_000 });
        let cursor = start;
        let quietSince = Date.now();
        while (!stop.signal.aborted) {
          await this.sink.flush();
          const page = this.registry.logs.query(tenant, name, { afterId: cursor, limit: PAGE });
          for (const record of page.records) await stream.writeSSE({ id: String(record.id), event: 'invocation', data: JSON.stringify(record) });
          cursor = page.cursor;
          if (page.records.length > 0) quietSince = Date.now();
          else if (Date.now() - quietSince >= this.keepAliveMs) {
            await stream.write(': keep-alive\n\n');
            quietSince = Date.now();
          }
          if (page.records.length < PAGE) await sleep(this.pollMs, stop.signal);
        }
      } finally {
        clearTimeout(deadline);
        this.options.closing?.removeEventListener('abort', end);
        c.req.raw.signal.removeEventListener('abort', end);
        release();
      }
    });
  }

  private take(tenant: string): () => void {
    const n = this.open.get(tenant) ?? 0;
    if (n >= this.perTenant)
      throw new OverloadedError(
        `tenant "${tenant}" already has ${n} live log tails open (at most ${this.perTenant}) — close a console tab and retry`,
        5,
        'tenant',
      );
    this.open.set(tenant, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(tenant) ?? 1) - 1;
      if (left === 0) this.open.delete(tenant);
      else this.open.set(tenant, left);
    };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
