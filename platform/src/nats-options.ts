/**
 * TLS and credentials for a role's NATS connection, as nats.js connection options.
 *
 *   tlsCa             CA certificate(s) the server's certificate must chain to (PEM)
 *   tlsCert, tlsKey   this process's client certificate and key, for servers that verify clients
 *   creds             a NATS .creds file (JWT + nkey seed, decentralised auth)
 *   user + password   server `authorization { user, password }`
 *   token             server `authorization { token }`
 *
 * Files are read here, before connecting, so a missing or unreadable one is named as such rather
 * than surfacing as a TLS or auth failure. A tls:// URL or any TLS file makes the connection TLS.
 */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';
import { PlatformStartError } from './errors.js';

export interface NatsSecurity {
  tlsCa?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  creds?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
}

export function natsConnectionOptions(s: NatsSecurity): Omit<ConnectionOptions, 'servers' | 'name'> {
  const options: Omit<ConnectionOptions, 'servers' | 'name'> = {};
  if ((s.tlsCert === undefined) !== (s.tlsKey === undefined))
    throw new PlatformStartError('--nats-tls-cert and --nats-tls-key go together: the client certificate and its private key');
  if (s.tlsCa !== undefined || s.tlsCert !== undefined) {
    options.tls = {
      ...(s.tlsCa !== undefined ? { ca: read(s.tlsCa, '--nats-tls-ca') } : {}),
      ...(s.tlsCert !== undefined ? { cert: read(s.tlsCert, '--nats-tls-cert'), key: read(s.tlsKey!, '--nats-tls-key') } : {}),
    };
  }
  const ways = [s.creds !== undefined, s.user !== undefined || s.password !== undefined, s.token !== undefined].filter(Boolean).length;
  if (ways > 1) throw new PlatformStartError('give NATS one kind of credentials: --nats-creds, or --nats-user with FN_NATS_PASSWORD, or FN_NATS_TOKEN');
  if (s.creds !== undefined) options.authenticator = credsAuthenticator(new TextEncoder().encode(read(s.creds, '--nats-creds')));
  if (s.user !== undefined || s.password !== undefined) {
    if (s.user === undefined || s.password === undefined)
      throw new PlatformStartError('--nats-user needs FN_NATS_PASSWORD (and the password needs --nats-user)');
    options.user = s.user;
    options.pass = s.password;
  }
  if (s.token !== undefined) options.token = s.token;
  return options;
}

function read(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new PlatformStartError(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}
