/**
 * How every benchmark reports: a readable table on stdout, the same figures saved as JSON under
 * bench/results/, and (with --json) that JSON object alone on the last line of stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NESTED_WARNING, reportedBackend } from './nested.js';

export interface BenchArgs {
  quick: boolean;
  json: boolean;
  /** --backend kvm|ptrace|process; absent: the best one this machine has. */
  backend?: 'kvm' | 'ptrace' | 'process';
  /** npm run bench only: a saved result to compare with, and how many interleaved rounds to run. */
  compare?: string;
  rounds?: number;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { quick: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = true;
    else if (a === '--backend' && ['kvm', 'ptrace', 'process'].includes(argv[i + 1] ?? '')) args.backend = argv[++i] as BenchArgs['backend'];
    else if (a === '--compare' && argv[i + 1]) args.compare = argv[++i];
    else if (a === '--rounds' && Number(argv[i + 1]) >= 1) args.rounds = Math.floor(Number(argv[++i]));
    else
      throw new Error(`unknown argument ${a} — use --quick, --json, --backend kvm|ptrace|process (and for npm run bench: --compare <result.json>, --rounds N)`);
  }
  return args;
}

/** Progress goes to stderr so stdout stays the table and, with --json, ends with the JSON line. */
export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** The progress line naming the backend, with what its figures are worth. */
export function announceBackend(backend: string): void {
  const shown = reportedBackend(backend);
  if (shown === 'kvm-nested') progress(`backend kvm-nested: WARNING ${NESTED_WARNING}`);
  else progress(`backend ${backend}${backend !== 'kvm' ? ' (no usable /dev/kvm: figures are for a development stand-in, not a microVM)' : ''}`);
}

export function report(name: string, measured: Record<string, number | string | boolean>, notes: Record<string, string>, args: BenchArgs): void {
  // KVM inside the emulated machine: say so in the figures themselves, not only on stderr.
  const nested = typeof measured.backend === 'string' && reportedBackend(measured.backend) === 'kvm-nested';
  const figures = nested ? { ...measured, backend: 'kvm-nested', representative: false } : measured;
  if (nested) notes = { ...notes, backend: `WARNING ${NESTED_WARNING}` };
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  const lines = Object.entries(figures).map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(12)}  ${notes[k] ?? ''}`);
  process.stdout.write(`\n${name}\n${lines.join('\n')}\n`);
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const record = { bench: name, at: new Date().toISOString(), quick: args.quick, ...figures };
  const file = `${dir}${name}-${record.at.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  process.stdout.write(`  saved ${file}\n`);
  if (args.json) process.stdout.write(JSON.stringify(record) + '\n');
}
