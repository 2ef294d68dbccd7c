/**
 * The fn command line. Each command lives in commands/; this file only dispatches and turns any
 * error into one clear line on stderr and a non-zero exit code.
 */
import { initCommand, initUsage } from './commands/init.js';
import { runCommand, runUsage } from './commands/run.js';
import { UsageError } from './usage-error.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  init: initCommand,
  run: runCommand,
};

const help = `fn — serverless functions in kernel-less microVMs

commands:
  ${initUsage.replace('usage: ', '')}
      create a function folder with fn.json and a hello-world handler
  ${runUsage.replace('usage: ', '')}
      bundle a function folder and invoke it locally in a microVM
`;

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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`fn: ${e.message}\n`);
    if (process.env.FN_DEBUG && e.stack) process.stderr.write(e.stack + '\n');
    const badArgs = err instanceof UsageError || String((e as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
    process.exitCode = badArgs ? 2 : 1;
  },
);
