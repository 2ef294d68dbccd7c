/**
 * The fn command line, on commander: help for every command (`fn <command> --help`, `fn help
 * <command>`), `fn --version`, suggestions for mistyped commands, `fn completion bash|zsh`. The
 * commands themselves (command-table.ts, commands/) parse their own arguments. Any error becomes one
 * clear line on stderr: exit 2 for a command called the wrong way, 1 for everything else.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help, type Option } from 'commander';
import { ApiError } from './api-client.js';
import { bold, colourOn, red } from './colour.js';
import { COMMANDS, type CommandSpec } from './command-table.js';
import { completionScript, SHELLS, type Shell } from './completion.js';
import { UsageError } from './usage-error.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The table's options as the help lists them; the command's own parser reads them. */
const HELP_OPTION: [string, string] = ['-h, --help', 'show this help'];
type ListedOption = Pick<Option, 'flags' | 'description'>;

const usageTail = (spec: CommandSpec) => spec.usage.replace(`usage: fn ${spec.name}`, '').trim();

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('fn')
    .description('fn — serverless functions in kernel-less microVMs')
    .version(version, '-v, --version', 'print the version of fn')
    .helpOption('-h, --help', 'show this help')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .commandsGroup('Other commands:')
    .helpCommand('help [command]', 'show the help of a command (the same as fn <command> --help)')
    .configureOutput({ outputError: (text, write) => write(`fn: ${text.replace(/^error: /, '')}`) })
    .configureHelp({
      styleTitle: (title: string) => bold(title),
      visibleOptions(this: Help, cmd: Command) {
        const spec = COMMANDS.find((c) => c.name === cmd.name() && cmd.parent);
        if (!spec) return Help.prototype.visibleOptions.call(this, cmd);
        return [...spec.options, HELP_OPTION].map(([flags, description]): ListedOption => ({ flags, description })) as Option[];
      },
      optionTerm: (option: Option) => option.flags,
      optionDescription: (option: Option) => option.description,
    })
    .addHelpText(
      'after',
      `
Remote commands talk to a gateway: --url/--key, else FN_URL/FN_API_KEY, else the file \`fn login\` writes.
With an admin key and no --tenant they act for the tenant "default".

Run \`fn <command> --help\` or \`fn help <command>\` for a command's options and examples.
Shell completion: source <(fn completion bash)   ·   fn completion zsh > "\${fpath[1]}/_fn"
`,
    );

  for (const spec of COMMANDS) {
    program
      .command(spec.name)
      .summary(spec.summary)
      .description(spec.summary)
      .helpGroup(spec.group === 'local' ? 'Local commands:' : 'Remote commands (a gateway):')
      .usage(usageTail(spec))
      .helpOption('-h, --help', 'show this help')
      .allowUnknownOption()
      .allowExcessArguments()
      .addHelpText('after', `\n${bold('Examples:')}\n${spec.examples.map((e) => `  ${e}`).join('\n')}\n`)
      .action(async (_options: unknown, cmd: Command) => setExitCode(await spec.run(cmd.args)));
  }

  program
    .command('completion')
    .summary('print a shell completion script (bash or zsh)')
    .helpGroup('Other commands:')
    .description('print a shell completion script: bash or zsh')
    .usage('bash|zsh')
    .allowExcessArguments()
    .addHelpText('after', `\n${bold('Examples:')}\n  source <(fn completion bash)        (in ~/.bashrc)\n  fn completion zsh > "\${fpath[1]}/_fn"\n`)
    .action((_options: unknown, cmd: Command) => {
      const [shell, ...rest] = cmd.args;
      if (!SHELLS.includes(shell as Shell) || rest.length > 0) throw new UsageError('usage: fn completion bash|zsh');
      process.stdout.write(completionScript(shell as Shell, COMMANDS, ['completion', 'help']));
      setExitCode(0);
    });
  return program;
}

// `fn help | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  if (argv.length === 0) {
    // No command at all is a usage error: the overview, exit 2 (as before commander).
    process.stdout.write(program.helpInformation());
    return 2;
  }
  // `fn help invok`: commander would print the overview; the unknown command's error suggests the right one.
  const known = program.commands.map((c) => c.name());
  const args = argv[0] === 'help' && argv[1] !== undefined && !known.includes(argv[1]) ? [argv[1]] : argv;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // Help and --version are answers, not errors; commander has already printed everything.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (err.code === 'commander.unknownCommand') process.stderr.write('run `fn help` for the list of commands\n');
    return 2;
  }
  return code;
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
    const prefix = colourOn(process.stderr) ? red('fn:') : 'fn:';
    process.stderr.write(`${prefix} ${describeError(e)}\n`);
    if (process.env.FN_DEBUG && e.stack) process.stderr.write(e.stack + '\n');
    const badArgs = err instanceof UsageError || String((e as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
    process.exitCode = badArgs ? 2 : 1;
  },
);
