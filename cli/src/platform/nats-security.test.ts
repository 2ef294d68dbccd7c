// `fn up --role … --nats tls://…` with TLS files and credentials, against a real nats-server
// that requires TLS with client certificates and a user/password (certificates made by openssl
// here), one that requires a token, and one in operator mode that takes .creds files (JWTs made
// here with nkeys). The right files and credentials connect (a gateway
// opens its shared registry over that connection); a wrong CA, a wrong password, a missing file
// each end the start with exit code 1 and a line saying which of them failed.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAccount, createOperator, createUser, type KeyPair } from 'nkeys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '@fn/scheduler';
import { natsConnectionOptions } from '@fn/platform';
import { startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fnBin = join(root, 'cli/bin/fn.js');
const dir = mkdtempSync(join(tmpdir(), 'fn-nats-security-'));
const file = (name: string) => join(dir, name);
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'a-token-of-32-characters-or-so-0123';
const children: ChildProcess[] = [];
let tlsServer: TestNatsServer;
let tokenServer: TestNatsServer;
let credsServer: TestNatsServer;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, and a certificate it signs for `name` (EC keys: quick to make). */
function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.pem`,
  );
}
function makeCert(name: string, ca: string, altNames: string): void {
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.csr`,
  );
  writeFileSync(file(`${name}.ext`), `subjectAltName=${altNames}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}-key.pem`,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
}

/** A NATS JWT (decentralised auth): claims signed by `issuer`'s nkey. */
function natsJwt(issuer: KeyPair, subject: KeyPair, name: string, nats: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = part({ typ: 'JWT', alg: 'ed25519-nkey' });
  const body = part({ jti: name + Date.now(), iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), sub: subject.getPublicKey(), name, nats });
  return `${head}.${body}.${Buffer.from(issuer.sign(Buffer.from(`${head}.${body}`))).toString('base64url')}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

/** An operator-mode server config (accounts preloaded), and a .creds file per user it names. */
function makeOperatorSetup(): void {
  const [operator, system, account, stranger] = [createOperator(), createAccount(), createAccount(), createAccount()];
  const accountJwt = (a: KeyPair, name: string, jetstream: boolean) =>
    natsJwt(operator, a, name, {
      type: 'account',
      version: 2,
      limits: { ...UNLIMITED, ...(jetstream ? { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } : {}) },
      default_permissions: { pub: {}, sub: {} },
    });
  const creds = (signer: KeyPair, file: string) => {
    const user = createUser();
    const jwt = natsJwt(signer, user, 'fn', { type: 'user', version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
    writeFileSync(
      file,
      `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`,
    );
  };
  writeFileSync(file('operator.jwt'), natsJwt(operator, operator, 'fn-test', { type: 'operator', version: 2, system_account: system.getPublicKey() }));
  writeFileSync(
    file('operator.conf'),
    `operator: "${file('operator.jwt')}"\nsystem_account: ${system.getPublicKey()}\nresolver: MEMORY\nresolver_preload: {\n` +
      `  ${account.getPublicKey()}: "${accountJwt(account, 'fn', true)}"\n  ${system.getPublicKey()}: "${accountJwt(system, 'SYS', false)}"\n}\n`,
  );
  creds(account, file('fn.creds'));
  creds(stranger, file('stranger.creds')); // signed by an account the server does not know
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
  makeOperatorSetup();
  makeCa('ca');
  makeCa('other-ca');
  makeCert('server', 'ca', 'IP:127.0.0.1,DNS:localhost');
  makeCert('client', 'ca', 'DNS:fn-client');
  writeFileSync(
    file('tls.conf'),
    `tls {\n  cert_file: "${file('server.pem')}"\n  key_file: "${file('server-key.pem')}"\n  ca_file: "${file('ca.pem')}"\n  verify: true\n}\n` +
      `authorization {\n  user: fn\n  password: "${PASSWORD}"\n}\n`,
  );
  writeFileSync(file('token.conf'), `authorization {\n  token: "${TOKEN}"\n}\n`);
  [tlsServer, tokenServer, credsServer] = await Promise.all([
    startNatsServer({ args: ['-c', file('tls.conf')], scheme: 'tls' }),
    startNatsServer({ args: ['-c', file('token.conf')] }),
    startNatsServer({ args: ['-c', file('operator.conf')] }),
  ]);
});
afterAll(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
  await Promise.all([tlsServer?.stop(), tokenServer?.stop(), credsServer?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const cleanEnv = () => {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('FN_NATS') || name === 'FN_API_KEY' || name === 'FN_SECRET_KEY_FILE') delete env[name];
  return env;
};

function fnUpExits(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [fnBin, 'up', ...args], { cwd: root, env: { ...cleanEnv(), ...env } }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

const tlsFlags = () => ['--nats-tls-ca', file('ca.pem'), '--nats-tls-cert', file('client.pem'), '--nats-tls-key', file('client-key.pem')];

describe('NATS over TLS with client certificates and a password', () => {
  it('the right CA, client certificate and password: a gateway starts and opens the shared registry over TLS', async () => {
    const child = spawn(
      process.execPath,
      [fnBin, 'up', '--role', 'gateway', '--nats', tlsServer.url, ...tlsFlags(), '--nats-user', 'fn', '--port', '0', '--data', mkdtempSync(join(dir, 'gw-'))],
      { cwd: root, env: { ...cleanEnv(), FN_NATS_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (out += b));
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}:\n${out}`)));
      const poll = setInterval(() => {
        if (/admin API key/.test(out)) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    const url = /fn is up at (http:\/\/\S+)/.exec(out)![1]!;
    const key = /admin API key \(shown once, keep it\): (\S+)/.exec(out)![1]!;
    // The first start wrote the admin key and tenant through the registry stream, over TLS.
    const whoami = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${key}` } });
    expect(await whoami.json()).toMatchObject({ admin: true });
    await fetch(`${url}/v1/tenants`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) =>
      expect(JSON.stringify(await r.json())).toContain('default'),
    );
  });

  it('a CA that did not sign the server certificate: exit 1, the TLS handshake named', async () => {
    const r = await fnUpExits(
      [
        '--role',
        'scheduler',
        '--nats',
        tlsServer.url,
        '--nats-tls-ca',
        file('other-ca.pem'),
        '--nats-tls-cert',
        file('client.pem'),
        '--nats-tls-key',
        file('client-key.pem'),
        '--nats-user',
        'fn',
      ],
      { FN_NATS_PASSWORD: PASSWORD },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not connect to NATS at tls:\/\/127\.0\.0\.1:\d+ .*the TLS handshake failed: check --nats-tls-ca/);
  });

  it('a wrong password: exit 1, the credentials named', async () => {
    const r = await fnUpExits(['--role', 'scheduler', '--nats', tlsServer.url, ...tlsFlags(), '--nats-user', 'fn'], { FN_NATS_PASSWORD: 'wrong' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not connect to NATS .*NATS refused the credentials/);
  });

  it('a missing TLS file, or a certificate without its key: exit 1 before connecting, the flag named', async () => {
    const missing = await fnUpExits(['--role', 'scheduler', '--nats', tlsServer.url, '--nats-tls-ca', file('nope.pem')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--nats-tls-ca \S*nope\.pem: no such file/);
    const half = await fnUpExits(['--role', 'scheduler', '--nats', tlsServer.url, '--nats-tls-cert', file('client.pem')]);
    expect(half.code).toBe(1);
    expect(half.stderr).toMatch(/--nats-tls-cert and --nats-tls-key go together/);
  });
});

describe('NATS with a token', () => {
  it('the token connects; a wrong one is refused as credentials', async () => {
    const bus = await NatsBus.connect(tokenServer.url, { connection: natsConnectionOptions({ token: TOKEN }) });
    await bus.close();
    await expect(NatsBus.connect(tokenServer.url, { connection: natsConnectionOptions({ token: 'wrong' }) })).rejects.toThrow(/NATS refused the credentials/);
    const r = await fnUpExits(['--role', 'scheduler', '--nats', tokenServer.url], { FN_NATS_TOKEN: 'wrong' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NATS refused the credentials: check .*FN_NATS_TOKEN/);
  });
});

describe('NATS with a .creds file (operator mode)', () => {
  it('a user of a known account connects and the gateway opens its registry stream; a stranger is refused as credentials', async () => {
    const child = spawn(
      process.execPath,
      [
        fnBin,
        'up',
        '--role',
        'gateway',
        '--nats',
        credsServer.url,
        '--nats-creds',
        file('fn.creds'),
        '--port',
        '0',
        '--data',
        mkdtempSync(join(dir, 'gw-creds-')),
      ],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (out += b));
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}:\n${out}`)));
      const poll = setInterval(() => {
        if (/admin API key/.test(out)) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    const r = await fnUpExits(['--role', 'scheduler', '--nats', credsServer.url, '--nats-creds', file('stranger.creds')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not connect to NATS .*NATS refused the credentials: check --nats-creds/);
  });
});
