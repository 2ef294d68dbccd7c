/**
 * Serving the app over HTTP with @hono/node-server. Loopback by default: exposing the gateway
 * beyond this machine is a deliberate choice (hostname: '0.0.0.0'), behind TLS termination.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { GatewayEnv } from './context.js';

export interface ServerOptions {
  /** 0 picks a free port (tests). */
  port?: number;
  hostname?: string;
  /**
   * A request's headers and body must arrive within this (default 60 s; Node's own is 300 s): a
   * client trickling a body cannot hold a connection and its buffers for minutes (issue 13, hole 7).
   */
  requestTimeoutMs?: number;
  /** Headers must arrive within this (default 10 s). */
  headersTimeoutMs?: number;
  /** Connections open at once (default 1024); more are closed as they arrive. */
  maxConnections?: number;
}

export const SERVER_DEFAULTS = { requestTimeoutMs: 60_000, headersTimeoutMs: 10_000, maxConnections: 1024 } as const;

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, ends idle keep-alive ones, and resolves when all are closed. */
  close(): Promise<void>;
}

export function startServer(app: Hono<GatewayEnv>, options: ServerOptions = {}): Promise<RunningServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const requestTimeout = options.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs;
    const headersTimeout = Math.min(options.headersTimeoutMs ?? SERVER_DEFAULTS.headersTimeoutMs, requestTimeout);
    const server = serve({
      fetch: app.fetch,
      port: options.port ?? 8080,
      hostname,
      // Node checks these timeouts every connectionsCheckingInterval (30 s by default): check at a
      // quarter of the shorter one, so a slow request is cut close to its deadline.
      serverOptions: { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.max(100, Math.floor(headersTimeout / 4)) },
    }) as Server;
    server.maxConnections = options.maxConnections ?? SERVER_DEFAULTS.maxConnections;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            // Keep-alive connections would hold close() open until they time out.
            server.closeIdleConnections();
          }),
      });
    });
  });
}
