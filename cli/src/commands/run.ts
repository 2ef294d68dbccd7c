/**
 * `fn run <function-dir>`: the local one-shot runner (like `sam local invoke`). Bundles the function,
 * boots one microVM, loads the function, snapshots it (SnapStart), then invokes it N times on that
 * VM, resetting it to the snapshot after every invocation, and prints each response body on its own
 * line, or with --json one JSON object per invocation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MicroVM, probeKvm, type InvokeResult } from '@fn/vmm';
import { bundleFunction } from '../bundle.js';
import { readFunctionDir } from '../function-config.js';
import { mapStackText, parseSourceMap } from '@fn/gateway';
import { UsageError } from '../usage-error.js';

export const runUsage = `usage: fn run <function-dir> [--method M] [--path P] [-d BODY] [-H 'name: value']... [--repeat N] [--json] [--no-reset] [--backend kvm|ptrace|process|auto]`;
const BACKENDS = ['kvm', 'ptrace', 'process', 'auto'] as const;

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      method: { type: 'string', short: 'X' },
      path: { type: 'string', short: 'p', default: '/' },
      data: { type: 'string', short: 'd' },
      header: { type: 'string', short: 'H', multiple: true, default: [] },
      repeat: { type: 'string', short: 'n', default: '1' },
      json: { type: 'boolean', default: false },
      'no-reset': { type: 'boolean', default: false },
      backend: { type: 'string', default: process.env.FN_BACKEND ?? 'auto' },
    },
  });
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageError(runUsage);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError(`--repeat must be a positive integer, not "${values.repeat}"`);
  const backend = BACKENDS.find((b) => b === values.backend);
  if (!backend) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, not "${values.backend}"`);
  const headers = values.header.map(parseHeader);

  const fn = readFunctionDir(dir);
  const bundle = await bundleFunction(fn.entryPath);
  // Error stacks and logs name the user's files rather than lines of the bundle.
  const lines = bundle.sourceMap ? parseSourceMap(bundle.sourceMap) : new Map();
  const toSource = (text: string) => mapStackText(text, lines);
  const vm = await MicroVM.boot({ memoryMiB: fn.config.memoryMiB, timeoutMs: fn.config.timeoutMs, backend });
  if (backend === 'auto' && vm.platform !== 'kvm') {
    const probe = probeKvm();
    process.stderr.write(`fn: KVM is not usable here (${probe.message ?? probe.code}); running on the ${vm.platform} stand-in (no VM isolation)\n`);
  }
  const snapshotDir = mkdtempSync(join(tmpdir(), 'fn-run-'));
  try {
    await vm.load(bundle.code, { name: fn.config.name, env: fn.config.env });
    if (vm.platform !== 'process' && !values['no-reset']) {
      await vm.snapshot(snapshotDir);
    } else if (!values['no-reset']) {
      process.stderr.write('fn: the process backend has no snapshots: state carries over between invocations\n');
    }
    let failed = 0;
    for (let i = 0; i < repeat; i++) {
      const result = await vm.invoke({
        method: values.method ?? (values.data !== undefined ? 'POST' : 'GET'),
        url: values.path,
        headers,
        ...(values.data !== undefined ? { body: values.data } : {}),
      });
      print(withSourcePositions(result, toSource), values.json);
      if (invocationFailed(result)) failed++;
    }
    // Like `fn invoke`: any failed invocation (an error, or a 4xx/5xx answer) makes the exit status 1.
    if (failed > 0) {
      process.stderr.write(`fn: ${failed} of ${repeat} invocation${repeat === 1 ? '' : 's'} failed\n`);
      return 1;
    }
  } finally {
    vm.close();
    rmSync(snapshotDir, { recursive: true, force: true });
  }
  return 0;
}

function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UsageError(`header "${raw}" must look like 'name: value'`);
  return [raw.slice(0, colon).trim().toLowerCase(), raw.slice(colon + 1).trim()];
}

function withSourcePositions(result: InvokeResult, toSource: (text: string) => string): InvokeResult {
  return {
    ...result,
    logs: result.logs.map((log) => ({ ...log, message: toSource(log.message) })),
    ...(result.error ? { error: { ...result.error, ...(result.error.stack ? { stack: toSource(result.error.stack) } : {}) } } : {}),
  };
}

function invocationFailed(result: InvokeResult): boolean {
  return result.error !== undefined || result.response.status >= 400;
}

function print(result: InvokeResult, json: boolean): void {
  const { response, logs } = result;
  if (json) {
    const text = new TextDecoder('utf-8', { fatal: true });
    let body: string | undefined;
    try {
      body = text.decode(response.body);
    } catch {
      body = undefined;
    }
    const line = {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      ...(body !== undefined ? { body } : { bodyBase64: response.body.toString('base64') }),
      logs,
      ...(result.error ? { error: result.error } : {}),
      durationMs: Math.round(result.timings.totalUs) / 1000,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
    return;
  }
  for (const log of logs) process.stderr.write(`[${log.level}] ${log.message}\n`);
  if (result.error) {
    process.stderr.write(`fn: the invocation failed: ${result.error.stack || `${result.error.name}: ${result.error.message}`}\n`);
  } else if (response.status >= 400) {
    process.stderr.write(`fn: the function answered ${response.status}\n`);
  }
  const body = response.body.toString('utf8');
  process.stdout.write(body.endsWith('\n') ? body : body + '\n');
}
