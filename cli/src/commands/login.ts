/**
 * `fn login --url U --key K`: checks the key against the gateway, then stores both in the config
 * file (mode 0600) the remote commands read when neither flags nor FN_URL/FN_API_KEY say.
 */
import { parseArgs } from 'node:util';
import { configPath, resolveTarget, writeStoredConfig } from '../target.js';
import { UsageError } from '../usage-error.js';

export const loginUsage = 'usage: fn login --url U --key K';

export async function loginCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { url: { type: 'string' }, key: { type: 'string' } } });
  if (!values.url || !values.key || positionals.length > 0) throw new UsageError(loginUsage);
  const target = resolveTarget({ url: values.url, key: values.key });
  const who = await target.api.whoami();
  const file = configPath();
  writeStoredConfig({ url: target.url, key: target.key }, file);
  process.stdout.write(`logged in to ${target.url} as ${who.admin ? 'admin' : `tenant ${who.tenant}`} (key ${who.keyId}); saved to ${file}\n`);
  return 0;
}
