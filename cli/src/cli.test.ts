// The command line's frame (commander): help for every command, --version, suggestions for typos,
// shell completion and colour rules; run as a user runs it, the real bin/fn.js in a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './command-table.js';
import { root } from './test-support/remote.js';

const bin = join(root, 'cli/bin/fn.js');

function fn(args: string[], env: Record<string, string | undefined> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  delete childEnv.FORCE_COLOR;
  if (env.FORCE_COLOR) childEnv.FORCE_COLOR = env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: childEnv, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root, stdio: 'inherit' });
});

describe('help', () => {
  it('every command answers --help with its usage, options and examples, exit 0', () => {
    for (const { name } of COMMANDS) {
      const r = fn([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^Usage: fn ${name}\\b`));
      expect(r.stdout, name).toMatch(/\nOptions:\n[\s\S]*-h, --help/);
      expect(r.stdout, name).toMatch(new RegExp(`\\nExamples:\\n {2}fn ${name}\\b`));
    }
  });

  it('fn deploy --help lists the options the command reads', () => {
    const r = fn(['deploy', '--help']);
    for (const flag of ['--json', '--url U', '--key K', '--tenant T']) expect(r.stdout).toContain(flag);
  });

  it('fn help <command> is the same text as fn <command> --help; fn help alone lists every command', () => {
    expect(fn(['help', 'invoke']).stdout).toBe(fn(['invoke', '--help']).stdout);
    const all = fn(['help']);
    expect(all.code).toBe(0);
    for (const { name } of COMMANDS) expect(all.stdout).toMatch(new RegExp(`^ {2}${name}\\b`, 'm'));
    expect(all.stdout).toMatch(/^ {2}completion\b/m);
  });

  it('no command at all is the overview on stdout and exit 2', () => {
    const r = fn([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^Usage: fn \[options\] \[command\]/);
  });
});

it('fn --version prints the version in cli/package.json', () => {
  const { version } = JSON.parse(readFileSync(join(root, 'cli/package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) expect(fn([flag])).toMatchObject({ code: 0, stdout: `${version}\n` });
});

it('a mistyped command suggests the right one and exits 2', () => {
  const r = fn(['delpoy', 'hello']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^fn: unknown command 'delpoy'\n\(Did you mean deploy\?\)\n/);
  expect(fn(['lst']).stderr).toContain('Did you mean list?');
  expect(fn(['help', 'invok']).stderr).toContain('Did you mean invoke?');
});

describe('completion', () => {
  const complete = (line: string[]) => {
    const script = fn(['completion', 'bash']).stdout;
    const words = line.map((w) => `'${w}'`).join(' ');
    return execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _fn_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
  };

  it('bash completes commands, the options of a command and the actions of env/secret', () => {
    expect(complete(['fn', 'de'])).toEqual(['dev', 'deploy', 'describe']);
    expect(complete(['fn', 'deploy', '--j'])).toEqual(['--json']);
    expect(complete(['fn', 'invoke', '--he'])).toEqual(['--header', '--help']);
    expect(complete(['fn', 'secret', 'u'])).toEqual(['unset']);
    expect(complete(['fn', 'completion', 'z'])).toEqual(['zsh']);
  });

  it('zsh gets a #compdef script with every command; another shell is a usage error', () => {
    const zsh = fn(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef fn\n/);
    for (const { name } of COMMANDS) expect(zsh.stdout).toContain(` ${name}) opts=(`);
    expect(fn(['completion', 'fish'])).toMatchObject({ code: 2, stderr: 'fn: usage: fn completion bash|zsh\n' });
  });
});

describe('colour', () => {
  const hasEscape = (text: string) => text.includes('\x1b[');
  it('none in a pipe; FORCE_COLOR turns it on; NO_COLOR wins over both', () => {
    expect(hasEscape(fn(['--help']).stdout)).toBe(false);
    expect(hasEscape(fn(['--help'], { FORCE_COLOR: '1' }).stdout)).toBe(true);
    expect(hasEscape(fn(['--help'], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout)).toBe(false);
    expect(hasEscape(fn(['invoke'], { FORCE_COLOR: '1' }).stderr)).toBe(true);
    expect(hasEscape(fn(['invoke'], { FORCE_COLOR: '1', NO_COLOR: '1' }).stderr)).toBe(false);
  });
});
