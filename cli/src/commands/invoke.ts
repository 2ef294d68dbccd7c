/**
 * `fn invoke <name>`: calls a deployed function through its invocation endpoint
 * (/fn/<tenant>/<name>/<path>) and prints the body; --json prints status, headers, body and the
 * x-fn-* facts as one object. A function's own 4xx/5xx is printed too and exits 1; the gateway's
 * own refusal (401, 429, 504…) is an error like any other.
 *
 * --async queues it instead (x-fn-invocation-type: async, answered 202) and prints its id and
 * status URL; with --wait it then waits for the outcome and prints it as `fn invocation` does.
 */
import { parseArgs } from 'node:util';
import { tenantOf, resolveTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError } from '../usage-error.js';
import { printInvocation, waitForFinal } from './invocation.js';

export const invokeUsage = `usage: fn invoke <name[@version|@alias]> [-d BODY] [-X METHOD] [--path P] [-H 'name: value']... [--async [--wait]] [--json] ${targetUsage}`;

export async function invokeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...targetOptions,
      data: { type: 'string', short: 'd' },
      method: { type: 'string', short: 'X' },
      path: { type: 'string', short: 'p', default: '/' },
      header: { type: 'string', short: 'H', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      async: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
    },
  });
  if (values.wait && !values.async) throw new UsageError('--wait goes with --async (a synchronous invocation always waits)');
  const spec = positionals[0];
  if (!spec || positionals.length > 1) throw new UsageError(invokeUsage);
  const at = spec.indexOf('@');
  const name = at < 0 ? spec : spec.slice(0, at);
  const selector = at < 0 ? undefined : spec.slice(at + 1);
  const headers = Object.fromEntries(values.header.map(parseHeader));
  const target = resolveTarget(values);
  const tenant = await tenantOf(target);

  const out = await target.api.invoke({
    tenant,
    name,
    ...(selector ? { selector } : {}),
    path: values.path,
    headers: values.async ? { ...headers, 'x-fn-invocation-type': 'async' } : headers,
    ...(values.method ? { method: values.method.toUpperCase() } : {}),
    ...(values.data !== undefined ? { body: values.data } : {}),
  });
  if (out.gatewayError) throw out.gatewayError;
  if (values.async) {
    const accepted = JSON.parse(new TextDecoder().decode(out.body)) as { id: string; status: string; statusUrl: string };
    if (values.wait) return printInvocation(await waitForFinal(target.api, accepted.id), values.json);
    if (values.json) process.stdout.write(JSON.stringify({ ...accepted, statusUrl: target.url + accepted.statusUrl }) + '\n');
    else process.stdout.write(`${accepted.id}\n${target.url}${accepted.statusUrl}\n`);
    if (!values.json) process.stderr.write(`fn: queued; see what became of it with \`fn invocation ${accepted.id}\`\n`);
    return 0;
  }

  if (values.json) {
    let body: string | undefined;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(out.body);
    } catch {
      body = undefined;
    }
    const all = Object.fromEntries(out.headers);
    process.stdout.write(
      JSON.stringify({
        status: out.status,
        headers: Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('x-fn-'))),
        ...(body !== undefined ? { body } : { bodyBase64: Buffer.from(out.body).toString('base64') }),
        fn: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('x-fn-'))),
        invocationId: out.invocationId,
        cold: out.cold,
        durationMs: out.durationMs,
      }) + '\n',
    );
  } else {
    const body = Buffer.from(out.body);
    process.stdout.write(body);
    if (body.length > 0 && body[body.length - 1] !== 0x0a && process.stdout.isTTY) process.stdout.write('\n');
    if (out.status >= 400) process.stderr.write(`fn: the function answered ${out.status}\n`);
  }
  return out.status >= 400 ? 1 : 0;
}

function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UsageError(`header "${raw}" must look like 'name: value'`);
  return [raw.slice(0, colon).trim().toLowerCase(), raw.slice(colon + 1).trim()];
}
