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
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, ends idle keep-alive ones, and resolves when all are closed. */
  close(): Promise<void>;
}

export function startServer(app: Hono<GatewayEnv>, options: ServerOptions = {}): Promise<RunningServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname }) as Server;
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
