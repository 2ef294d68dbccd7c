/**
 * How every benchmark reports: a readable table on stdout, the same figures saved as JSON under
 * bench/results/, and (with --json) that JSON object alone on the last line of stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface BenchArgs {
  quick: boolean;
  json: boolean;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const unknown = argv.filter((a) => a !== '--quick' && a !== '--json');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]} — use --quick and/or --json`);
  return { quick: argv.includes('--quick'), json: argv.includes('--json') };
}

/** Progress goes to stderr so stdout stays the table and, with --json, ends with the JSON line. */
export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export function report(name: string, figures: Record<string, number | string | boolean>, notes: Record<string, string>, args: BenchArgs): void {
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
