/**
 * Which gateway the remote commands talk to, and with which key: the --url/--key flags, else
 * FN_URL/FN_API_KEY, else the config file `fn login` writes ($XDG_CONFIG_HOME/fn/config.json,
 * default ~/.config/fn/config.json, { "url", "key" }, mode 0600).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApiClient } from './api-client.js';

/** The parseArgs options every remote command accepts. */
export const targetOptions = {
  url: { type: 'string' },
  key: { type: 'string' },
  tenant: { type: 'string' },
} as const;

export const targetUsage = '[--url U] [--key K] [--tenant T]';

export interface TargetFlags {
  url?: string | undefined;
  key?: string | undefined;
  tenant?: string | undefined;
}

export interface StoredConfig {
  url?: string;
  key?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'fn', 'config.json');
}

export function readStoredConfig(file = configPath()): StoredConfig {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message} — fix it or run \`fn login --url U --key K\` again`);
  }
  const o = (json ?? {}) as Record<string, unknown>;
  return {
    ...(typeof o.url === 'string' ? { url: o.url } : {}),
    ...(typeof o.key === 'string' ? { key: o.key } : {}),
  };
}

export function writeStoredConfig(config: StoredConfig, file = configPath()): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  // writeFileSync's mode applies only to a new file.
  chmodSync(file, 0o600);
}

export interface Target {
  url: string;
  key: string;
  tenant: string | undefined;
  api: ApiClient;
}

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const stored = flags.url && flags.key ? {} : readStoredConfig(configPath(env));
  const url = flags.url || env.FN_URL || stored.url;
  const key = flags.key || env.FN_API_KEY || stored.key;
  if (!url) throw new Error('no gateway URL: pass --url, set FN_URL, or run `fn login --url U --key K`');
  if (!/^https?:\/\//.test(url)) throw new Error(`the gateway URL "${url}" must start with http:// or https://`);
  if (!key) throw new Error('no API key: pass --key, set FN_API_KEY, or run `fn login --url U --key K`');
  const tenant = flags.tenant || undefined;
  const adminDefaultTenant = { tenant: DEFAULT_TENANT, onUse: sayDefaultTenant };
  return { url: url.replace(/\/+$/, ''), key, tenant, api: new ApiClient({ baseUrl: url, apiKey: key, tenant, adminDefaultTenant }) };
}

/** The tenant `fn up` creates at first start: an admin key without --tenant acts for it. */
export const DEFAULT_TENANT = 'default';
let saidDefaultTenant = false;

/** Once per command, on stderr (stdout may be JSON a script reads). */
function sayDefaultTenant(tenant: string): void {
  if (saidDefaultTenant) return;
  saidDefaultTenant = true;
  process.stderr.write(`fn: an admin key and no --tenant: acting for tenant "${tenant}"\n`);
}

/** The tenant the function lives in: --tenant, else the key's own, else (an admin key) "default". */
export async function tenantOf(target: Target): Promise<string> {
  if (target.tenant) return target.tenant;
  const who = await target.api.whoami();
  if (who.tenant) return who.tenant;
  sayDefaultTenant(DEFAULT_TENANT);
  return DEFAULT_TENANT;
}
