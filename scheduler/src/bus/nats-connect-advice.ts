/**
 * What to do when a connection to NATS fails, by why it failed: an unreachable server, refused
 * credentials and a TLS problem each need a different fix, so each gets its own advice.
 */
import { ErrorCode, NatsError } from 'nats';

export function connectAdvice(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const code = (error as { code?: string })?.code ?? '';
  if (error instanceof NatsError && (error.code === ErrorCode.AuthorizationViolation || error.code === ErrorCode.AuthenticationExpired))
    return 'NATS refused the credentials: check --nats-creds, --nats-user with FN_NATS_PASSWORD, or FN_NATS_TOKEN';
  if (/certificate|CERT_|self.signed|SSL|TLS|tls/i.test(`${code} ${message}`))
    return 'the TLS handshake failed: check --nats-tls-ca (the CA that signed the server certificate), the host name in the URL, and --nats-tls-cert/--nats-tls-key if the server verifies clients';
  return 'start nats-server (with -js), or check the --nats URL';
}
