/**
 * Every fn command in one table: what it does, its usage line, its options and examples. main.ts
 * turns the table into the commander program (help, `fn help <command>`, suggestions for typos);
 * completion.ts turns it into the bash and zsh completion scripts, so neither can forget a command.
 * Each command still parses its own arguments (node:util parseArgs in commands/*.ts): that keeps
 * their validation, messages and exit codes (usage errors exit 2) as they were.
 */
import { deployCommand, deployUsage } from './commands/deploy.js';
import { describeCommand, describeUsage } from './commands/describe.js';
import { devCommand, devUsage } from './commands/dev.js';
import { envCommand, envUsage } from './commands/env.js';
import { initCommand, initUsage } from './commands/init.js';
import { invocationCommand, invocationUsage } from './commands/invocation.js';
import { invokeCommand, invokeUsage } from './commands/invoke.js';
import { listCommand, listUsage } from './commands/list.js';
import { loginCommand, loginUsage } from './commands/login.js';
import { logsCommand, logsUsage } from './commands/logs.js';
import { rmCommand, rmUsage } from './commands/rm.js';
import { rollbackCommand, rollbackUsage } from './commands/rollback.js';
import { runCommand, runUsage } from './commands/run.js';
import { secretCommand, secretUsage } from './commands/secret.js';
import { statusCommand, statusUsage } from './commands/status.js';
import { upCommand, upUsage } from './commands/up.js';

export interface CommandSpec {
  name: string;
  group: 'local' | 'remote';
  summary: string;
  usage: string;
  /** [flags, what it does]: shown by --help and offered by shell completion. */
  options: [string, string][];
  examples: string[];
  /** Fixed words after the command (e.g. env's set/unset/get), for completion. */
  actions?: string[];
  run(argv: string[]): Promise<number>;
}

const target: [string, string][] = [
  ['--url U', 'the gateway (else FN_URL, else the file `fn login` writes)'],
  ['--key K', 'the API key (else FN_API_KEY, else the file `fn login` writes)'],
  ['--tenant T', 'with an admin key: the tenant to act for (default: "default")'],
];
const json: [string, string] = ['--json', 'print the result as JSON (one object per line)'];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'init',
    group: 'local',
    summary: 'create a function folder with fn.json and a hello-world handler',
    usage: initUsage,
    options: [['--ts', 'a TypeScript handler (src/index.ts) and a tsconfig.json'], json],
    examples: ['fn init hello', 'fn init api --ts'],
    run: initCommand,
  },
  {
    name: 'run',
    group: 'local',
    summary: 'bundle a function folder and invoke it locally in a microVM',
    usage: runUsage,
    options: [
      ['-X, --method M', 'the request method (default GET, POST with -d)'],
      ['-p, --path P', 'the request path and query (default /)'],
      ['-d, --data BODY', 'the request body'],
      ['-H, --header "name: value"', 'a request header (repeatable)'],
      ['-n, --repeat N', 'invoke N times, each from the snapshot'],
      ['--no-reset', 'reuse the VM between repeats instead of restoring the snapshot'],
      ['--backend kvm|ptrace|process|auto', 'the VMM backend (default: FN_BACKEND, else auto)'],
      json,
    ],
    examples: ["fn run hello --path '/?name=fn'", "fn run api -d '{\"a\":1}' -H 'content-type: application/json'", 'fn run hello --repeat 100 --json'],
    run: runCommand,
  },
  {
    name: 'dev',
    group: 'local',
    summary: 'serve a function folder on a local port with the same runtime, rebundling on change',
    usage: devUsage,
    options: [
      ['--port N', 'the port (default: PORT, else 8787; 0 picks a free one)'],
      ['--hostname H', 'the address to listen on (default 127.0.0.1)'],
      ['--backend kvm|ptrace|process|auto', 'the VMM backend (default: FN_BACKEND, else auto)'],
    ],
    examples: ['fn dev hello', 'fn dev . --port 3000', "curl 'http://127.0.0.1:8787/?name=fn'"],
    run: devCommand,
  },
  {
    name: 'up',
    group: 'local',
    summary: 'run the platform on this machine (gateway, scheduler, worker) until Ctrl-C',
    usage: upUsage,
    options: [
      ['--port N', 'the gateway port (default: PORT, else 8080)'],
      ['--data DIR', 'the data directory (default: FN_DATA, else .fn)'],
      ['--backend kvm|ptrace|auto', 'the VMM backend (default: FN_BACKEND, else auto)'],
      ['--hostname H', 'the address to listen on (default 127.0.0.1)'],
      ['--role gateway|scheduler|worker', 'start one role of a platform spread over processes, talking over NATS'],
      ['--nats URL', 'the NATS server for --role (default: FN_NATS)'],
      ['--worker-id ID', 'the worker id for --role worker (default: FN_WORKER_ID)'],
      ['--nats-tls-ca FILE', 'CA for a TLS NATS server (tls://host:4222); also --nats-tls-cert/--nats-tls-key FILE (FN_NATS_TLS_*)'],
      ['--nats-creds FILE', 'NATS credentials file (FN_NATS_CREDS); or --nats-user USER with FN_NATS_PASSWORD, or FN_NATS_TOKEN'],
      ['--secret-key-file FILE', 'gateway: the key secrets are sealed with, the same on every gateway (FN_SECRET_KEY_FILE)'],
      ['--async-runners N', 'asynchronous invocations this process runs at once (default 8; 0: only accept them)'],
      ['--otlp-endpoint URL', 'send trace spans to this OpenTelemetry collector (OTLP/HTTP; default OTEL_EXPORTER_OTLP_ENDPOINT; off without one)'],
    ],
    examples: ['fn up', 'fn up --port 9000 --data /var/lib/fn', 'fn up --role worker --nats nats://10.0.0.2:4222'],
    run: upCommand,
  },
  {
    name: 'login',
    group: 'remote',
    summary: 'check a key and save the URL and key to $XDG_CONFIG_HOME/fn/config.json (~/.config/fn)',
    usage: loginUsage,
    options: [['--url U', 'the gateway'], ['--key K', 'the API key; without it fn reads the key from stdin, or asks for it without echo on a terminal'], json],
    examples: ['fn login --url http://127.0.0.1:8080', 'echo "$FN_KEY" | fn login --url https://fn.example.com'],
    run: loginCommand,
  },
  {
    name: 'deploy',
    group: 'remote',
    summary: 'bundle a function folder and deploy it: prints its URL and new version',
    usage: deployUsage,
    options: [json, ...target],
    examples: ['fn deploy hello', 'fn deploy . --json', 'fn deploy api --tenant acme'],
    run: deployCommand,
  },
  {
    name: 'invoke',
    group: 'remote',
    summary: 'call a deployed function and print its answer',
    usage: invokeUsage,
    options: [
      ['-d, --data BODY', 'the request body'],
      ['-X, --method M', 'the request method'],
      ['-p, --path P', 'the request path and query (default /)'],
      ['-H, --header "name: value"', 'a request header (repeatable)'],
      ['--async', 'queue it (202): print its id and status URL'],
      ['--wait', 'with --async: wait for the outcome and print it'],
      json,
      ...target,
    ],
    examples: [
      'fn invoke hello',
      "fn invoke hello@2 --path '/?name=fn'",
      'fn invoke api -X POST -d \'{"a":1}\' --json',
      'fn invoke job --async -d \'{"n":1}\'',
    ],
    run: invokeCommand,
  },
  {
    name: 'invocation',
    group: 'remote',
    summary: 'the status and result of an asynchronous invocation',
    usage: invocationUsage,
    options: [['--wait', 'wait until it succeeded, failed or was dead-lettered'], json, ...target],
    examples: ['fn invocation 9b2f4c1a-5e7d-4f3b-8a61-2c0d9e7f1b34', 'fn invocation 9b2f4c1a-5e7d-4f3b-8a61-2c0d9e7f1b34 --wait --json'],
    run: invocationCommand,
  },
  {
    name: 'list',
    group: 'remote',
    summary: 'the functions of your tenant',
    usage: listUsage,
    options: [json, ...target],
    examples: ['fn list', 'fn list --json'],
    run: listCommand,
  },
  {
    name: 'describe',
    group: 'remote',
    summary: 'versions, aliases, env and secret names of a function',
    usage: describeUsage,
    options: [json, ...target],
    examples: ['fn describe hello', 'fn describe hello --json'],
    run: describeCommand,
  },
  {
    name: 'rm',
    group: 'remote',
    summary: 'delete a function and all its versions',
    usage: rmUsage,
    options: [json, ...target],
    examples: ['fn rm hello'],
    run: rmCommand,
  },
  {
    name: 'rollback',
    group: 'remote',
    summary: 'move live to a version (default: the one below live)',
    usage: rollbackUsage,
    options: [json, ...target],
    examples: ['fn rollback hello', 'fn rollback hello 3'],
    run: rollbackCommand,
  },
  {
    name: 'logs',
    group: 'remote',
    summary: 'invocation records; --follow polls for new ones until Ctrl-C',
    usage: logsUsage,
    options: [['-f, --follow', 'keep polling for new records until Ctrl-C'], ['-n, --limit N', 'at most N records'], json, ...target],
    examples: ['fn logs hello', 'fn logs hello --follow', 'fn logs hello --limit 5 --json'],
    run: logsCommand,
  },
  {
    name: 'env',
    group: 'remote',
    summary: 'env vars: each change publishes a new version',
    usage: envUsage,
    options: [json, ...target],
    examples: ['fn env set hello GREETING=hi MODE=prod', 'fn env unset hello MODE', 'fn env get hello --json'],
    actions: ['set', 'unset', 'get'],
    run: envCommand,
  },
  {
    name: 'secret',
    group: 'remote',
    summary: 'write-only secrets: values are never printed',
    usage: secretUsage,
    options: [json, ...target],
    examples: [
      'fn secret set hello TOKEN            (reads the value from stdin, or asks without echo)',
      'printf %s "$TOKEN" | fn secret set hello TOKEN',
      'fn secret list hello',
      'fn secret unset hello TOKEN',
    ],
    actions: ['set', 'unset', 'list'],
    run: secretCommand,
  },
  {
    name: 'status',
    group: 'remote',
    summary: 'what the platform holds: the disk of its snapshot store (admin key)',
    usage: statusUsage,
    options: [json, ...target],
    examples: ['fn status', 'fn status --json'],
    run: statusCommand,
  },
];
