/**
 * `fn logs <name>`: the function's newest invocation records (status, duration, cold or warm, its
 * console lines); --follow then polls for new ones every second, from the cursor, until Ctrl-C.
 * --json prints one JSON object per record.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { LogRecord } from '../api-client.js';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';
import { when } from './format.js';

export const logsUsage = `usage: fn logs <name> [--follow] [--limit N] [--json] ${targetUsage}`;
const POLL_MS = 1000;

export async function logsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...targetOptions,
      follow: { type: 'boolean', short: 'f', default: false },
      limit: { type: 'string', short: 'n' },
      json: { type: 'boolean', default: false },
    },
  });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new UsageError(logsUsage);
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, not "${values.limit}"`);
  }
  const { api } = resolveTarget(values);
  const print = (r: LogRecord) => process.stdout.write(values.json ? JSON.stringify(r) + '\n' : formatRecord(r));

  let page = await api.logs(name, limit === undefined ? {} : { limit });
  page.records.forEach(print);
  if (!values.follow) return 0;

  // Ctrl-C ends the follow quietly, between polls or during one.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop.signal.aborted) {
      const full = limit !== undefined && page.records.length === limit;
      if (!full) await sleep(POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      page = await api.logs(name, { after: page.cursor, ...(limit === undefined ? {} : { limit }) });
      page.records.forEach(print);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

function formatRecord(r: LogRecord): string {
  const head = `${when(r.at)}  v${r.version}  ${r.status}  ${Math.round(r.durationMs * 100) / 100} ms${r.cold ? '  cold' : ''}  ${r.invocationId}\n`;
  return head + r.logs.map((l) => `  [${l.level}] ${l.message}\n`).join('');
}
