/**
 * `fn login --url U [--key K]`: checks the key against the gateway, then stores both in the config
 * file (mode 0600) the remote commands read when neither flags nor FN_URL/FN_API_KEY say. Without
 * --key the key is read from stdin, or asked for without echo on a terminal: a key on the command
 * line lands in the shell history and the process list.
 */
import { parseArgs } from 'node:util';
import { readSecret } from '../read-secret.js';
import { configPath, resolveTarget, writeStoredConfig } from '../target.js';
import { UsageError } from '../usage-error.js';

export const loginUsage = 'usage: fn login --url U [--key K] [--json]   (without --key: the key from stdin or a hidden prompt)';

export async function loginCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { url: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (!values.url || positionals.length > 0) throw new UsageError(loginUsage);
  const key = values.key || (await readSecret(`API key for ${values.url} (not shown): `)).trim();
  if (!key) throw new UsageError(`no API key: none came on stdin — ${loginUsage}`);
  const target = resolveTarget({ url: values.url, key });
  const who = await target.api.whoami();
  const file = configPath();
  writeStoredConfig({ url: target.url, key: target.key }, file);
  if (values.json) process.stdout.write(JSON.stringify({ url: target.url, admin: who.admin, tenant: who.tenant, keyId: who.keyId, config: file }) + '\n');
  else process.stdout.write(`logged in to ${target.url} as ${who.admin ? 'admin' : `tenant ${who.tenant}`} (key ${who.keyId}); saved to ${file}\n`);
  return 0;
}
