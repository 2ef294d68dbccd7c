/**
 * A typed client for the gateway's HTTP API (see the gateway's /openapi.json), for the CLI's
 * commands. Control calls throw an ApiError carrying the status and the server's message; an
 * invocation returns the function's response whatever its status, since a 404 or 500 may well be
 * the function's own answer.
 *
 *   const api = new ApiClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.FN_API_KEY });
 *   const v = await api.deploy({ name: 'hello', bundle, config: { memoryMiB: 64 } });
 *   const r = await api.invoke({ tenant: 'acme', name: 'hello', path: '/?x=1' });
 *
 * The shapes below mirror the gateway's schemas (gateway/src/schemas.ts); the gateway's
 * api-client test runs this client against the real gateway, so a drift fails there.
 */

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    /** The gateway's error type (validation, unauthorized, not_found, …), when it said. */
    readonly type?: string,
    readonly requestId?: string,
    readonly issues: string[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  /** The gateway's URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiKey?: string | undefined;
  /** With an admin key: the tenant to act for (sent as ?tenant=). */
  tenant?: string | undefined;
  /**
   * With an admin key and no `tenant`: the tenant to act for once the gateway says an admin key
   * must name one (it says so before acting, so the retry is safe); onUse is told when that happens.
   */
  adminDefaultTenant?: { tenant: string; onUse(tenant: string): void } | undefined;
  /** Per request; default: no limit beyond the gateway's own. */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch;
}

export interface FunctionConfig {
  entry: string;
  memoryMiB: number;
  timeoutMs: number;
  maxConcurrency: number;
  public: boolean;
}
export interface VersionRecord {
  tenant: string;
  function: string;
  version: number;
  bundleDigest: string;
  snapshotDigest: string;
  config: FunctionConfig;
  env: Record<string, string>;
  createdAt: number;
}
export interface AliasRecord {
  name: string;
  version: number;
  updatedAt: number;
}
export interface FunctionSummary {
  tenant: string;
  name: string;
  latestVersion: number | null;
  liveVersion: number | null;
  public: boolean | null;
  createdAt: number;
  updatedAt: number;
}
export interface FunctionDescription extends FunctionSummary {
  versions: VersionRecord[];
  aliases: AliasRecord[];
  secrets: string[];
}
export interface EnvChange {
  version: VersionRecord;
  published: boolean;
}
export interface Tenant {
  id: string;
  createdAt: number;
}
export interface KeyInfo {
  id: string;
  tenantId: string | null;
  label: string;
  createdAt: number;
  revokedAt: number | null;
}
export interface NewKey extends KeyInfo {
  secret: string;
}
export interface LogRecord {
  id: number;
  tenant: string;
  function: string;
  version: number;
  invocationId: string;
  status: 'ok' | 'error' | 'timeout' | 'crashed' | 'rejected';
  durationMs: number;
  cold: boolean;
  logs: { level: string; message: string; ms: number }[];
  at: number;
}
/** An asynchronous invocation's record (GET /v1/invocations/<id>). */
export interface InvocationStatus {
  id: string;
  tenant: string;
  function: string;
  version: number;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'dead_lettered';
  attempts: number;
  result?: { status: number; headers: [string, string][]; body?: string; bodyBase64?: string };
  error?: { kind: string; message: string };
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
}
export interface LogPage {
  records: LogRecord[];
  cursor: number;
}
export interface DeployInput {
  name: string;
  bundle: string;
  /** The bundle's source map: the platform then shows stacks in the logs in the user's files. */
  sourceMap?: string;
  config?: Partial<FunctionConfig> & { env?: Record<string, string> };
}
export interface InvokeInput {
  tenant: string;
  name: string;
  /** A version number or an alias; default: live. */
  selector?: string | number;
  /** Path and query after the function, e.g. "/users?id=7". */
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}
export interface InvokeOutput {
  status: number;
  headers: Headers;
  body: Uint8Array;
  invocationId: string | null;
  cold: boolean | null;
  durationMs: number | null;
  /** Set when the gateway answered (401, 413, 429, 504…) rather than the function. */
  gatewayError?: ApiError;
}

type Query = Record<string, string | number | undefined>;

export class ApiClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  /** Set once the gateway has said this is an admin key with no tenant: see adminDefaultTenant. */
  private fallbackTenant: string | undefined;

  constructor(private readonly options: ApiClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
  }

  whoami() {
    return this.call<{ keyId: string; tenant: string | null; admin: boolean }>('GET', '/v1/whoami');
  }
  createTenant(name: string) {
    return this.call<Tenant>('POST', '/v1/tenants', { body: { name } });
  }
  async listTenants() {
    return (await this.call<{ tenants: Tenant[] }>('GET', '/v1/tenants')).tenants;
  }
  /** tenant: a tenant id, or 'admin' for another admin key. The secret is in the answer only. */
  createKey(tenant: string, label?: string) {
    return this.call<NewKey>('POST', '/v1/keys', { body: { tenant, ...(label !== undefined ? { label } : {}) } });
  }
  async listKeys(tenant?: string) {
    return (await this.call<{ keys: KeyInfo[] }>('GET', '/v1/keys', { query: { tenant } })).keys;
  }
  revokeKey(id: string) {
    return this.call<KeyInfo>('DELETE', `/v1/keys/${seg(id)}`);
  }

  /** The platform's status (admin key only): the disk its snapshot store holds. */
  status() {
    return this.call<{ snapshots: { blobs: number; bytes: number } | null }>('GET', '/v1/status');
  }

  deploy(input: DeployInput) {
    return this.call<VersionRecord>('POST', '/v1/functions', { body: input, scoped: true });
  }
  async listFunctions() {
    return (await this.call<{ functions: FunctionSummary[] }>('GET', '/v1/functions', { scoped: true })).functions;
  }
  describe(name: string) {
    return this.call<FunctionDescription>('GET', fn(name), { scoped: true });
  }
  deleteFunction(name: string) {
    return this.call<{ name: string; versions: number }>('DELETE', fn(name), { scoped: true });
  }
  async versions(name: string) {
    return (await this.call<{ versions: VersionRecord[] }>('GET', `${fn(name)}/versions`, { scoped: true })).versions;
  }
  async aliases(name: string) {
    return (await this.call<{ aliases: AliasRecord[] }>('GET', `${fn(name)}/aliases`, { scoped: true })).aliases;
  }
  setAlias(name: string, alias: string, version: number) {
    return this.call<AliasRecord>('PUT', `${fn(name)}/aliases/${seg(alias)}`, { body: { version }, scoped: true });
  }
  async deleteAlias(name: string, alias: string) {
    await this.call<void>('DELETE', `${fn(name)}/aliases/${seg(alias)}`, { scoped: true });
  }
  rollback(name: string, version?: number) {
    return this.call<{ from: number | null; to: number }>('POST', `${fn(name)}/rollback`, { body: version === undefined ? {} : { version }, scoped: true });
  }

  getEnv(name: string) {
    return this.call<{ version: number; env: Record<string, string> }>('GET', `${fn(name)}/env`, { scoped: true });
  }
  setEnv(name: string, key: string, value: string) {
    return this.call<EnvChange>('PUT', `${fn(name)}/env/${seg(key)}`, { body: { value }, scoped: true });
  }
  unsetEnv(name: string, key: string) {
    return this.call<EnvChange>('DELETE', `${fn(name)}/env/${seg(key)}`, { scoped: true });
  }
  async listSecrets(name: string) {
    return (await this.call<{ names: string[] }>('GET', `${fn(name)}/secrets`, { scoped: true })).names;
  }
  async setSecret(name: string, key: string, value: string) {
    await this.call<{ name: string }>('PUT', `${fn(name)}/secrets/${seg(key)}`, { body: { value }, scoped: true });
  }
  async unsetSecret(name: string, key: string) {
    return (await this.call<{ name: string; existed: boolean }>('DELETE', `${fn(name)}/secrets/${seg(key)}`, { scoped: true })).existed;
  }

  /** Without `after`: the newest `limit` records. With it: the records after that cursor (follow). */
  logs(name: string, options: { after?: number; limit?: number; since?: number } = {}) {
    return this.call<LogPage>('GET', `${fn(name)}/logs`, { query: { after: options.after, limit: options.limit, since: options.since }, scoped: true });
  }

  /** An asynchronous invocation's status and result (a tenant key sees its own tenant's only). */
  invocation(id: string) {
    return this.call<InvocationStatus>('GET', `/v1/invocations/${encodeURIComponent(id)}`);
  }

  async invoke(input: InvokeInput): Promise<InvokeOutput> {
    const target = input.selector === undefined ? input.name : `${input.name}@${input.selector}`;
    const path = input.path === undefined || input.path === '' ? '/' : input.path.startsWith('/') ? input.path : `/${input.path}`;
    const headers: Record<string, string> = { ...input.headers, ...this.auth() };
    const res = await this.send(`${this.base}/fn/${seg(input.tenant)}/${seg(target)}${path}`, {
      method: input.method ?? (input.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(input.body !== undefined ? { body: input.body } : {}),
    });
    const body = new Uint8Array(await res.arrayBuffer());
    const cold = res.headers.get('x-fn-cold-start');
    const duration = res.headers.get('x-fn-duration-ms');
    const gatewayError = gatewayErrorOf(res, body);
    return {
      status: res.status,
      headers: res.headers,
      body,
      invocationId: res.headers.get('x-fn-invocation-id'),
      cold: cold === null ? null : cold === 'true',
      durationMs: duration === null ? null : Number(duration),
      ...(gatewayError ? { gatewayError } : {}),
    };
  }

  private auth(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  private async call<T>(method: string, path: string, o: { body?: unknown; query?: Query; scoped?: boolean } = {}): Promise<T> {
    try {
      return await this.callOnce<T>(method, path, o);
    } catch (error) {
      const fallback = this.options.adminDefaultTenant;
      if (!o.scoped || this.options.tenant || this.fallbackTenant || !fallback || !isAdminWithoutTenant(error)) throw error;
      this.fallbackTenant = fallback.tenant;
      fallback.onUse(fallback.tenant);
      return this.callOnce<T>(method, path, o);
    }
  }

  private async callOnce<T>(method: string, path: string, o: { body?: unknown; query?: Query; scoped?: boolean }): Promise<T> {
    const tenant = this.options.tenant ?? this.fallbackTenant;
    const query: Query = { ...o.query, ...(o.scoped && tenant ? { tenant } : {}) };
    const qs = new URLSearchParams(
      Object.entries(query)
        .filter((e): e is [string, string | number] => e[1] !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const headers: Record<string, string> = { ...this.auth(), ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}) };
    const res = await this.send(`${this.base}${path}${qs ? `?${qs}` : ''}`, {
      method,
      headers,
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw errorFrom(res, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const signal = this.options.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await this.doFetch(url, { ...init, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw new ApiError(0, `cannot reach the gateway at ${this.base}: ${(error as Error).message} — is it running? (check the URL)`, 'network');
    }
  }
}

/** The gateway's answer to a tenant-scoped request made with an admin key and no ?tenant= (gateway/src/auth.ts). */
const isAdminWithoutTenant = (error: unknown) => error instanceof ApiError && error.status === 400 && error.issues.some((i) => i.startsWith('query.tenant:'));

const seg = (s: string) => encodeURIComponent(s);
const fn = (name: string) => `/v1/functions/${seg(name)}`;

interface ErrorJson {
  error?: { type?: string; message?: string; requestId?: string; issues?: string[]; retryAfterSeconds?: number };
}

function errorFrom(res: Response, text: string): ApiError {
  let json: ErrorJson | undefined;
  try {
    json = JSON.parse(text) as ErrorJson;
  } catch {
    // Not the gateway's JSON (a proxy's page, say): report the start of it.
  }
  const e = json?.error;
  const message = typeof e?.message === 'string' ? e.message : `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  const retryAfter = e?.retryAfterSeconds ?? (res.headers.get('retry-after') ? Number(res.headers.get('retry-after')) : undefined);
  return new ApiError(
    res.status,
    message,
    e?.type,
    e?.requestId ?? res.headers.get('x-fn-request-id') ?? undefined,
    Array.isArray(e?.issues) ? e.issues : [],
    retryAfter,
  );
}

/** The gateway's own error answer carries the request id it also sets as x-fn-request-id. */
function gatewayErrorOf(res: Response, body: Uint8Array): ApiError | undefined {
  if (res.ok || !res.headers.get('content-type')?.startsWith('application/json')) return undefined;
  const text = new TextDecoder().decode(body);
  let claimed: unknown;
  try {
    claimed = (JSON.parse(text) as ErrorJson).error?.requestId;
  } catch {
    return undefined;
  }
  return claimed !== undefined && claimed === res.headers.get('x-fn-request-id') ? errorFrom(res, text) : undefined;
}
