import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lineLogger } from './logger.js';

/** A logger writing into an array of parsed lines (pino's destination is any stream with write()). */
function capture(level: 'info' | 'debug' = 'info') {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRETS = ['fn_live_0123456789abcdef', 'hunter2', 'Bearer sk-test-42', 'session=abc123', 'db-password-value', 'jwt-signing-key'];

describe('the fn logger (pino)', () => {
  it('writes the fields fn always wrote: level as a word, ISO time, msg, then the fields', () => {
    const { logger, lines } = capture();
    logger.info({ method: 'GET', path: '/fn/acme/hello', status: 200 }, 'request');
    const [line] = lines();
    expect(line).toMatchObject({ level: 'info', msg: 'request', method: 'GET', path: '/fn/acme/hello', status: 200 });
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
  });

  it('never writes API keys, secrets, authorization or cookie headers, or env values — wherever they sit in the line', () => {
    const { logger, raw, lines } = capture();
    logger.warn(
      {
        apiKey: SECRETS[0],
        secret: SECRETS[1],
        authorization: SECRETS[2],
        headers: { authorization: SECRETS[2], cookie: SECRETS[3], accept: 'text/plain' },
        env: { DB_PASSWORD: SECRETS[4], REGION: 'eu' },
        request: {
          headers: [
            ['Authorization', SECRETS[2]],
            ['Cookie', SECRETS[3]],
            ['x-trace', 'keep-me'],
          ],
          env: { JWT_KEY: SECRETS[5] },
        },
        deploy: { config: { env: { DB_PASSWORD: SECRETS[4] } }, secrets: { JWT_KEY: SECRETS[5] }, token: SECRETS[0] },
      },
      'a line full of credentials',
    );
    const text = raw.join('\n');
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    const [line] = lines();
    // The shape stays where it helps: env and secret names, the harmless headers.
    expect(line).toMatchObject({
      apiKey: '[redacted]',
      headers: { authorization: '[redacted]', cookie: '[redacted]', accept: 'text/plain' },
      env: { DB_PASSWORD: '[redacted]', REGION: '[redacted]' },
      request: {
        headers: [
          ['Authorization', '[redacted]'],
          ['Cookie', '[redacted]'],
          ['x-trace', 'keep-me'],
        ],
        env: { JWT_KEY: '[redacted]' },
      },
      deploy: { config: { env: { DB_PASSWORD: '[redacted]' } }, secrets: { JWT_KEY: '[redacted]' } },
    });
  });

  it('the line form fn components call takes its level and msg from the line, and drops levels below the logger’s', () => {
    const { logger, lines } = capture('info');
    const log = lineLogger(logger);
    log({ level: 'warn', msg: 'closing the bus failed', error: 'ECONNRESET', apiKey: SECRETS[0] });
    log({ level: 'debug', msg: 'not written at info', invocationId: 'inv-1' });
    expect(lines()).toEqual([{ level: 'warn', time: expect.any(String), msg: 'closing the bus failed', error: 'ECONNRESET', apiKey: '[redacted]' }]);
  });

  it('redacts what goes through a child logger too, and credential keys whatever their case', () => {
    const { logger, raw } = capture();
    logger.child({ invocationId: 'inv-3' }).info({ apiKey: SECRETS[0], Authorization: SECRETS[2], COOKIE: SECRETS[3] }, 'bound');
    for (const secret of SECRETS) expect(raw.join('\n')).not.toContain(secret);
    expect(JSON.parse(raw[0]!)).toMatchObject({ invocationId: 'inv-3', apiKey: '[redacted]', Authorization: '[redacted]', COOKIE: '[redacted]' });
  });

  it('a child logger puts the invocation id and trace id on every line it writes', () => {
    const { logger, lines } = capture('debug');
    const child = logger.child({ invocationId: 'inv-7', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    child.debug('restored');
    child.info({ ms: 3 }, 'answered');
    for (const line of lines()) expect(line).toMatchObject({ invocationId: 'inv-7', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(lines()).toHaveLength(2);
  });
});
