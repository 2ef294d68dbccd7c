/**
 * `fn up` (also `npm start`): gateway, scheduler and a worker on this machine, state under one data
 * directory. The first start prints the admin API key (kept; FN_API_KEY at first start is adopted
 * instead), creates the tenant "default" and deploys functions/hello as a public function, so a
 * curl works at once. Runs until Ctrl-C.
 *
 * With `--role gateway|scheduler|worker --nats nats://host:4222` it starts one role of a platform
 * spread over processes and machines that talk over NATS (@fn/platform's startRole); a gateway
 * whose data directory is new does the same first start. Without --role nothing changes: one
 * process, no NATS.
 *
 * A start that fails (a port in use, a data directory that cannot be written, no build) is one
 * line on stderr and exit code 1, with every process it started stopped (@fn/platform's start
 * rolls itself back); so is a failed first-start setup after the platform came up.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiClient, ApiError } from '../api-client.js';
import { bundleFunction } from '../bundle.js';
import { readFunctionDir } from '../function-config.js';
import { ROLES, startPlatform, startRole, type NatsSecurity, type Role } from '@fn/platform';
import { UsageError } from '../usage-error.js';

export const upUsage =
  'usage: fn up [--port N] [--data DIR] [--backend kvm|ptrace|auto] [--role gateway|scheduler|worker --nats nats://host:4222 [--worker-id ID] ' +
  '[--nats-tls-ca FILE] [--nats-tls-cert FILE --nats-tls-key FILE] [--nats-creds FILE] [--nats-user USER] [--secret-key-file FILE]] [--async-runners N] [--metrics-token TOKEN] [--otlp-endpoint URL]';
const HELLO_DIR = fileURLToPath(new URL('../../../functions/hello', import.meta.url));
const DEFAULT_TENANT = 'default';
const STOP_GRACE_MS = 10_000;

export async function upCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string', default: process.env.FN_BACKEND ?? 'auto' },
      hostname: { type: 'string', default: '127.0.0.1' },
      role: { type: 'string' },
      nats: { type: 'string', default: process.env.FN_NATS || undefined },
      'worker-id': { type: 'string', default: process.env.FN_WORKER_ID },
      // NATS TLS and credentials; passwords and tokens only from the environment (not in `ps`).
      'nats-tls-ca': { type: 'string', default: process.env.FN_NATS_TLS_CA || undefined },
      'nats-tls-cert': { type: 'string', default: process.env.FN_NATS_TLS_CERT || undefined },
      'nats-tls-key': { type: 'string', default: process.env.FN_NATS_TLS_KEY || undefined },
      'nats-creds': { type: 'string', default: process.env.FN_NATS_CREDS || undefined },
      'nats-user': { type: 'string', default: process.env.FN_NATS_USER || undefined },
      'secret-key-file': { type: 'string', default: process.env.FN_SECRET_KEY_FILE || undefined },
      'async-runners': { type: 'string' },
      // Reads /metrics besides the admin key; FN_METRICS_TOKEN keeps it out of `ps`.
      'metrics-token': { type: 'string', default: process.env.FN_METRICS_TOKEN || undefined },
      // Spans to an OpenTelemetry collector (OTLP/HTTP JSON); off without it.
      'otlp-endpoint': { type: 'string', default: process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined },
    },
  });
  // Asynchronous invocations this process runs at once (fn up, or --role gateway); 0: it only accepts them.
  const runners = values['async-runners'] === undefined ? undefined : Number(values['async-runners']);
  if (runners !== undefined && !(Number.isInteger(runners) && runners >= 0 && runners <= 1000))
    throw new UsageError(`--async-runners must be a whole number from 0 to 1000, not "${values['async-runners']}"`);
  const async = runners === undefined ? {} : { async: { concurrency: runners } };
  const metricsToken = values['metrics-token'];
  if (metricsToken !== undefined && metricsToken.length < 16) throw new UsageError('--metrics-token (FN_METRICS_TOKEN) must be at least 16 characters');
  const otlpEndpoint = values['otlp-endpoint'];
  if (positionals.length > 0) throw new UsageError(upUsage);
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port ?? process.env.PORT}"`);
  const backend = values.backend;
  if (backend !== 'kvm' && backend !== 'ptrace' && backend !== 'auto') throw new UsageError(`--backend must be kvm, ptrace or auto, not "${backend}"`);
  const dataDir = resolve(values.data ?? process.env.FN_DATA ?? '.fn');

  if (values.role === undefined && values.nats && !process.env.FN_NATS)
    throw new UsageError('--nats needs --role gateway|scheduler|worker (fn up alone runs everything in one process, without NATS)');
  const role = values.role;
  if (role !== undefined && !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be gateway, scheduler or worker, not "${role}"`);
  if (role !== undefined && !values.nats) throw new UsageError(`--role ${role} needs --nats nats://host:4222 (or FN_NATS)`);

  let running: { url?: string | undefined; platform?: string | undefined; newAdminKey?: string | undefined; close(): Promise<void> };
  if (role === undefined) {
    process.stderr.write(`fn: starting (data in ${dataDir})\n`);
    running = await startPlatform({
      dataDir,
      port,
      hostname: values.hostname,
      backend,
      adminKey: process.env.FN_API_KEY,
      metricsToken,
      prepareBase: true,
      otlpEndpoint,
      ...async,
    });
    process.stdout.write(
      `fn is up at ${running.url} (backend: ${running.platform}${running.platform === 'kvm' ? '' : ', a development stand-in without VM isolation'})\n`,
    );
    process.stdout.write(operationsBanner(running.url!, metricsToken !== undefined));
  } else {
    running = await startOneRole(role as Role, values.nats!, {
      dataDir,
      port,
      hostname: values.hostname,
      backend,
      workerId: values['worker-id'],
      natsSecurity: {
        tlsCa: values['nats-tls-ca'],
        tlsCert: values['nats-tls-cert'],
        tlsKey: values['nats-tls-key'],
        creds: values['nats-creds'],
        user: values['nats-user'],
        password: process.env.FN_NATS_PASSWORD || undefined,
        token: process.env.FN_NATS_TOKEN || undefined,
      },
      secretKeyFile: values['secret-key-file'] ? resolve(values['secret-key-file']) : undefined,
      metricsToken,
      otlpEndpoint,
      ...async,
    });
  }
  if (running.url) process.stdout.write(`console: ${running.url}/console/ (sign in with an API key)\n`);
  try {
    if (running.newAdminKey && running.url) await firstStart(running.url, running.newAdminKey);
  } catch (error) {
    await running.close();
    throw error;
  }

  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('fn: stopping\n');
  // Stopping waits for requests in flight; a second Ctrl-C, or this timer, ends it regardless.
  const force = setTimeout(() => {
    process.stderr.write('fn: still stopping after 10 s: exiting now\n');
    process.exit(1);
  }, STOP_GRACE_MS);
  force.unref();
  process.once('SIGINT', () => process.exit(130));
  await running.close();
  return 0;
}

/** One role of a platform spread over processes (and machines), talking over NATS. */
async function startOneRole(
  role: Role,
  nats: string,
  o: {
    dataDir: string;
    port: number;
    hostname: string;
    backend: 'kvm' | 'ptrace' | 'auto';
    workerId: string | undefined;
    natsSecurity: NatsSecurity;
    secretKeyFile: string | undefined;
    metricsToken: string | undefined;
    otlpEndpoint: string | undefined;
    async?: { concurrency: number };
  },
): Promise<{ url?: string | undefined; newAdminKey?: string | undefined; close(): Promise<void> }> {
  process.stderr.write(`fn: starting the ${role} role (NATS ${nats}${role === 'scheduler' ? '' : `, data in ${o.dataDir}`})\n`);
  if (role === 'gateway' && process.env.FN_BACKEND === undefined && o.backend !== 'auto')
    process.stderr.write('fn: --backend is for workers: a gateway runs no VMs\n');
  const running = await startRole({
    role,
    nats,
    dataDir: o.dataDir,
    port: o.port,
    hostname: o.hostname,
    backend: o.backend,
    adminKey: process.env.FN_API_KEY,
    ...(o.workerId ? { workerId: o.workerId } : {}),
    natsSecurity: o.natsSecurity,
    ...(o.secretKeyFile ? { secretKeyFile: o.secretKeyFile } : {}),
    ...(o.async ? { async: o.async } : {}),
    ...(o.metricsToken ? { metricsToken: o.metricsToken } : {}),
    prepareBase: true,
    otlpEndpoint: o.otlpEndpoint,
  });
  const stand = running.platform && running.platform !== 'kvm' ? ', a development stand-in without VM isolation' : '';
  if (role === 'gateway') {
    process.stdout.write(`fn is up at ${running.url} (gateway role: workers build deploys and run invocations)\n`);
    process.stdout.write(operationsBanner(running.url!, o.metricsToken !== undefined));
  }
  if (role === 'scheduler') process.stdout.write(`fn scheduler is up (NATS ${nats})\n`);
  if (role === 'worker') process.stdout.write(`fn worker ${running.workerId} is up (backend: ${running.platform}${stand})\n`);
  return running;
}

/** Where an operator looks: the probes (no key) and the metrics (admin key or metrics token). */
function operationsBanner(url: string, withToken: boolean): string {
  return (
    `health:  ${url}/healthz (alive)  ${url}/readyz (ready: registry, snapshot store, a worker with a base snapshot)\n` +
    `metrics: ${url}/metrics (Prometheus; Authorization: Bearer <admin key${withToken ? ' or the metrics token' : ''}>)\n`
  );
}

/** The first start of a data directory: the admin key, the tenant "default" and functions/hello. */
async function firstStart(url: string, adminKey: string): Promise<void> {
  process.stdout.write(`admin API key (shown once, keep it): ${adminKey}\n`);
  process.stderr.write(`fn: first start: creating tenant "${DEFAULT_TENANT}" and deploying functions/hello\n`);
  const api = new ApiClient({ baseUrl: url, apiKey: adminKey, tenant: DEFAULT_TENANT });
  await api.createTenant(DEFAULT_TENANT);
  const hello = readFunctionDir(HELLO_DIR);
  const bundle = await bundleFunction(hello.entryPath);
  try {
    await api.deploy({
      name: hello.config.name,
      bundle: bundle.code,
      config: { memoryMiB: hello.config.memoryMiB, timeoutMs: hello.config.timeoutMs, public: true },
    });
  } catch (error) {
    // A gateway of a multi-process platform with no worker up yet: workers build deploys.
    if (!(error instanceof ApiError && error.status === 503)) throw error;
    process.stderr.write(`fn: functions/hello is not deployed: ${error.message}\n`);
    process.stdout.write(`then:    export FN_URL=${url} FN_API_KEY=${adminKey}\n`);
    process.stdout.write(`and, once a worker is up:  fn deploy functions/hello --tenant ${DEFAULT_TENANT}\n`);
    return;
  }
  process.stdout.write(`try it:  curl ${url}/fn/${DEFAULT_TENANT}/hello\n`);
  process.stdout.write(`then:    export FN_URL=${url} FN_API_KEY=${adminKey}\n`);
}
