/**
 * The fn command line. Each command lives in commands/; this file only dispatches and turns any
 * error into one clear line on stderr and a non-zero exit code.
 */
import { ApiError } from './api-client.js';
import { deployCommand, deployUsage } from './commands/deploy.js';
import { describeCommand, describeUsage } from './commands/describe.js';
import { envCommand, envUsage } from './commands/env.js';
import { initCommand, initUsage } from './commands/init.js';
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
import { UsageError } from './usage-error.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  init: initCommand,
  run: runCommand,
  up: upCommand,
  login: loginCommand,
  deploy: deployCommand,
  invoke: invokeCommand,
  list: listCommand,
  describe: describeCommand,
  rm: rmCommand,
  rollback: rollbackCommand,
  logs: logsCommand,
  env: envCommand,
  secret: secretCommand,
  status: statusCommand,
};

const entry = (usage: string, what: string) => `  ${usage.replace('usage: ', '')}\n      ${what}\n`;

const help = `fn — serverless functions in kernel-less microVMs

local:
${entry(initUsage, 'create a function folder with fn.json and a hello-world handler')}${entry(runUsage, 'bundle a function folder and invoke it locally in a microVM')}${entry(upUsage, 'run the platform on this machine (gateway, scheduler, worker) until Ctrl-C')}
remote (the gateway: --url/--key, else FN_URL/FN_API_KEY, else the file \`fn login\` writes):
${entry(loginUsage, 'check a key and save the URL and key to $XDG_CONFIG_HOME/fn/config.json (~/.config/fn)')}${entry(deployUsage, 'bundle a function folder and deploy it: prints its URL and new version')}${entry(invokeUsage, 'call a deployed function and print its answer')}${entry(listUsage, 'the functions of your tenant')}${entry(describeUsage, 'versions, aliases, env and secret names of a function')}${entry(rmUsage, 'delete a function and all its versions')}${entry(rollbackUsage, 'move live to a version (default: the one below live)')}${entry(logsUsage, 'invocation records; --follow polls for new ones until Ctrl-C')}${entry(envUsage, 'env vars: each change publishes a new version')}${entry(secretUsage, 'write-only secrets: values are never printed')}${entry(statusUsage, 'what the platform holds: the disk of its snapshot store (admin key)')}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}" — run \`fn help\` for the list`);
  return command(rest);
}

/** One line: the server's message, and for a validation error its first issues. */
function describeError(e: Error): string {
  let message = e.message;
  if (e instanceof ApiError && e.issues.length > 0 && !e.issues.some((i) => message.includes(i))) message += ` (${e.issues.slice(0, 3).join('; ')})`;
  return message.replace(/\s*\n\s*/g, ' ');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`fn: ${describeError(e)}\n`);
    if (process.env.FN_DEBUG && e.stack) process.stderr.write(e.stack + '\n');
    const badArgs = err instanceof UsageError || String((e as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
    process.exitCode = badArgs ? 2 : 1;
  },
);
