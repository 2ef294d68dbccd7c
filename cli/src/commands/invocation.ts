/**
 * `fn invocation <id>`: what became of an asynchronous invocation (`fn invoke --async`). Prints
 * its status and attempts, then the function's answer once it succeeded, or why it failed;
 * --wait polls until it is final; --json prints the record as the gateway gives it. Exit code 0
 * when succeeded with a status below 400, 1 when failed or dead-lettered (or the function's own
 * 4xx/5xx), 0 while still queued or running.
 */
import { parseArgs } from 'node:util';
import type { ApiClient, InvocationStatus } from '../api-client.js';
import { resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';

export const invocationUsage = `usage: fn invocation <id> [--wait] [--json] ${targetUsage}`;

const FINAL = new Set(['succeeded', 'failed', 'dead_lettered']);

export async function invocationCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...targetOptions, wait: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError(invocationUsage);
  const { api } = resolveTarget(values);
  const record = values.wait ? await waitForFinal(api, id) : await api.invocation(id);
  return printInvocation(record, values.json);
}

/** Polls (every 250 ms, backing off to 2 s) until the invocation is final. */
export async function waitForFinal(api: ApiClient, id: string): Promise<InvocationStatus> {
  for (let delay = 250; ; delay = Math.min(2_000, delay * 2)) {
    const record = await api.invocation(id);
    if (FINAL.has(record.status)) return record;
    await new Promise((r) => setTimeout(r, delay));
  }
}

export function printInvocation(record: InvocationStatus, json: boolean): number {
  const failed = record.status === 'failed' || record.status === 'dead_lettered' || (record.result?.status ?? 0) >= 400;
  if (json) {
    process.stdout.write(JSON.stringify(record) + '\n');
    return failed ? 1 : 0;
  }
  const attempts = `${record.attempts} attempt${record.attempts === 1 ? '' : 's'}`;
  process.stderr.write(`fn: invocation ${record.id} of ${record.function}@${record.version}: ${record.status.replace('_', ' ')} (${attempts})\n`);
  if (record.error) process.stderr.write(`fn: ${record.status === 'queued' ? 'last attempt: ' : ''}${record.error.kind}: ${record.error.message}\n`);
  if (record.result) {
    const body = record.result.body !== undefined ? Buffer.from(record.result.body) : Buffer.from(record.result.bodyBase64 ?? '', 'base64');
    process.stdout.write(body);
    if (body.length > 0 && body[body.length - 1] !== 0x0a && process.stdout.isTTY) process.stdout.write('\n');
    if (record.result.status >= 400) process.stderr.write(`fn: the function answered ${record.result.status}\n`);
  }
  return failed ? 1 : 0;
}
