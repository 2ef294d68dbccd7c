/**
 * A gateway over a real registry in a temp dir, with a fake deployer and a fake invoker that
 * record what they receive, two tenants (acme, globex) with a key each, and the admin key. For the
 * gateway's own behaviour (routes, auth, headers, the status table); how real failures travel
 * from a VM to this gateway is tested through the real chain in platform/.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, Registry } from '@fn/registry';
import { createApp } from '../app.js';
import type { DeployRequest, GatewayDeps, InvokeRequest, InvokeResult } from '../deps.js';
import { registryLogSink } from '../log-sink.js';

const digest = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

export class FakeDeployer {
  calls: DeployRequest[] = [];
  /** The abort signal each call got (aborted when its client went away or its deadline passed). */
  signals: (AbortSignal | undefined)[] = [];
  /** Replace to make deploys fail or hang. */
  behaviour: (request: DeployRequest, signal?: AbortSignal) => Promise<{ bundleDigest: string; snapshotDigest: string }> = async (request) => ({
    bundleDigest: digest(request.bundle),
    // The snapshot depends on the bundle, limits and the env baked in: a different one per deploy here.
    snapshotDigest: digest(`${request.bundle}|${JSON.stringify(request.config)}|${this.calls.length}`),
  });

  async deploy(request: DeployRequest, signal?: AbortSignal) {
    this.calls.push(request);
    this.signals.push(signal);
    return this.behaviour(request, signal);
  }
}

/** An invoker's answer from the flat fields tests care about (durationMs: the worker's time). */
export function result(r: {
  status: number;
  headers?: [string, string][];
  body?: Uint8Array;
  logs?: InvokeResult['logs'];
  error?: InvokeResult['error'];
  cold?: boolean;
  durationMs?: number;
}): InvokeResult {
  return {
    response: { status: r.status, headers: r.headers ?? [], body: r.body ?? new Uint8Array() },
    logs: r.logs ?? [],
    ...(r.error ? { error: r.error } : {}),
    cold: r.cold ?? false,
    timings: { worker: r.durationMs ?? 1 },
  };
}

export class FakeInvoker {
  calls: InvokeRequest[] = [];
  /** Default: echoes which snapshot ran, so tests can tell versions apart. */
  behaviour: (request: InvokeRequest) => Promise<InvokeResult> = async (request) => ({
    response: { status: 200, headers: [['content-type', 'text/plain']], body: new TextEncoder().encode(`ran ${request.function} v${request.version}`) },
    logs: [{ level: 'log', message: `hello from ${request.function}`, ms: 0.5 }],
    cold: this.calls.length === 1,
    timings: { worker: 1.25 },
  });

  async invoke(request: InvokeRequest) {
    this.calls.push(request);
    return this.behaviour(request);
  }
}

export interface Harness {
  app: ReturnType<typeof createApp>;
  registry: Registry;
  deployer: FakeDeployer;
  invoker: FakeInvoker;
  /** Every structured log line the gateway wrote. */
  logLines: Record<string, unknown>[];
  adminKey: string;
  acmeKey: string;
  globexKey: string;
  /** app.request with the key as a Bearer token and an optional JSON body. */
  call(
    method: string,
    path: string,
    options?: {
      key?: string | null;
      json?: unknown;
      headers?: Record<string, string>;
      body?: string | Uint8Array | ReadableStream<Uint8Array>;
      duplex?: 'half';
    },
  ): Promise<Response>;
  deploy(key: string, name: string, config?: Record<string, unknown>, bundle?: string): Promise<Response>;
  close(): void;
}

export function createHarness(options: Partial<Pick<GatewayDeps, 'limits' | 'asyncQueue' | 'poolHistory' | 'consoleDir' | 'closing'>> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'fn-gateway-'));
  const registry = Registry.open(dir);
  const adminKey = registry.keys.ensureAdminKey()!.secret;
  registry.tenants.create(ADMIN, 'acme');
  registry.tenants.create(ADMIN, 'globex');
  const acmeKey = registry.keys.create(ADMIN, 'acme', 'test').secret;
  const globexKey = registry.keys.create(ADMIN, 'globex', 'test').secret;
  const deployer = new FakeDeployer();
  const invoker = new FakeInvoker();
  const logLines: Record<string, unknown>[] = [];
  const logger = (line: Record<string, unknown>) => void logLines.push(line);
  const app = createApp({ registry, deployer, invoker, logger, logSink: registryLogSink(registry, logger), ...options });

  const call: Harness['call'] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    let body = o.body;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    return Promise.resolve(
      app.request(path, { method, headers, ...(body !== undefined ? { body } : {}), ...(o.duplex ? { duplex: o.duplex } : {}) } as RequestInit),
    );
  };

  return {
    app,
    registry,
    deployer,
    invoker,
    logLines,
    adminKey,
    acmeKey,
    globexKey,
    call,
    deploy: (key, name, config = {}, bundle = `export default { fetch() { return new Response('${name}') } }`) =>
      call('POST', '/v1/functions', { key, json: { name, bundle, config } }),
    close() {
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
