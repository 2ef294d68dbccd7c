/**
 * `fn dev [dir]`: serves a function folder on a local port with the runtime `fn run` uses (bundle,
 * microVM, snapshot, reset after every request), and rebundles when a file in the folder changes
 * (like `wrangler dev` / `sam local start-api`). One VM answers one request at a time; console
 * output and errors (mapped to the user's files) go to stderr. Runs until Ctrl-C.
 */
import { mkdtempSync, rmSync, watch } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MicroVM, type InvokeResult } from '@fn/vmm';
import { bundleFunction } from '../bundle.js';
import { readFunctionDir } from '../function-config.js';
import { mapStackText, parseSourceMap } from '@fn/gateway';
import { UsageError } from '../usage-error.js';

export const devUsage = 'usage: fn dev [function-dir] [--port N] [--hostname H] [--backend kvm|ptrace|process|auto]';
const BACKENDS = ['kvm', 'ptrace', 'process', 'auto'] as const;
/** Editors write a file in several steps: one rebuild for a burst of changes. */
const SETTLE_MS = 150;

interface Loaded {
  vm: MicroVM;
  snapshotDir: string;
  toSource(text: string): string;
}

export async function devCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      hostname: { type: 'string', default: '127.0.0.1' },
      backend: { type: 'string', default: process.env.FN_BACKEND ?? 'auto' },
    },
  });
  if (positionals.length > 1) throw new UsageError(devUsage);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port}"`);
  const backend = BACKENDS.find((b) => b === values.backend);
  if (!backend) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, not "${values.backend}"`);
  const dir = positionals[0] ?? '.';

  const load = async (): Promise<Loaded> => {
    const fn = readFunctionDir(dir);
    const bundle = await bundleFunction(fn.entryPath);
    const lines = bundle.sourceMap ? parseSourceMap(bundle.sourceMap) : new Map();
    const vm = await MicroVM.boot({ memoryMiB: fn.config.memoryMiB, timeoutMs: fn.config.timeoutMs, backend });
    const snapshotDir = mkdtempSync(join(tmpdir(), 'fn-dev-'));
    try {
      await vm.load(bundle.code, { name: fn.config.name, env: fn.config.env });
      if (vm.platform !== 'process') await vm.snapshot(snapshotDir);
    } catch (error) {
      unload({ vm, snapshotDir, toSource: (t) => t });
      throw error;
    }
    return { vm, snapshotDir, toSource: (text) => mapStackText(text, lines) };
  };
  const unload = (l: Loaded) => {
    l.vm.close();
    rmSync(l.snapshotDir, { recursive: true, force: true });
  };

  let current: Loaded | undefined = await load();
  // Requests and reloads take turns: one VM, one call at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const reload = (why: string) =>
    inTurn(async () => {
      try {
        const fresh = await load();
        if (current) unload(current);
        current = fresh;
        process.stderr.write(`fn dev: ${why}: rebundled and reloaded\n`);
      } catch (error) {
        process.stderr.write(`fn dev: ${why}: not reloaded, the previous version keeps answering — ${(error as Error).message}\n`);
      }
    });

  const server = createServer((req, res) => {
    void readBody(req).then((body) =>
      inTurn(async () => {
        if (!current) current = await load();
        let result: InvokeResult;
        try {
          result = await current.vm.invoke({
            method: req.method ?? 'GET',
            url: req.url ?? '/',
            headers: pairs(req),
            ...(body.length > 0 ? { body } : {}),
          });
        } catch (error) {
          // A timeout, crash or out-of-memory discards the VM: the next request boots a fresh one.
          unload(current);
          current = undefined;
          process.stderr.write(`fn dev: ${req.method} ${req.url}: ${(error as Error).message}\n`);
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`fn dev: ${(error as Error).message}\n`);
          return;
        }
        const { toSource } = current;
        for (const log of result.logs) process.stderr.write(`[${log.level}] ${toSource(log.message)}\n`);
        if (result.error)
          process.stderr.write(`fn dev: ${req.method} ${req.url} failed: ${toSource(result.error.stack || `${result.error.name}: ${result.error.message}`)}\n`);
        res.writeHead(result.response.status, result.response.headers.flat());
        res.end(result.response.body);
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, values.hostname, resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const name = readFunctionDir(dir).config.name;
  process.stderr.write(`fn dev: ${name} on ${current.vm.platform}, watching ${readFunctionDir(dir).dir}\n`);
  process.stdout.write(`http://${values.hostname}:${bound}/\n`);

  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(readFunctionDir(dir).dir, { recursive: true }, (_event, file) => {
    if (file && /(^|\/)(node_modules|\.git)(\/|$)/.test(file)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(`${file ?? 'a file'} changed`), SETTLE_MS);
  });

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  watcher.close();
  clearTimeout(timer);
  server.close();
  await queue;
  if (current) unload(current);
  return 0;
}

function pairs(req: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) out.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
  return out;
}

async function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
