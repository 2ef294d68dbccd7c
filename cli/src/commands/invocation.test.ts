// `fn invoke --async` and `fn invocation` against the real gateway with the real SQLite queue and
// runner (fake invoker, as the other remote-command tests).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AsyncRunner, registryLogSink } from '@fn/gateway';
import { SqliteAsyncQueue } from '../../../platform/src/async/sqlite-queue.js';
import { useRemote } from '../test-support/remote.js';

let queue: SqliteAsyncQueue;
let runner: AsyncRunner | undefined;
let dir: string;
const remote = useRemote({
  harness: () => {
    dir = mkdtempSync(join(tmpdir(), 'fn-cli-async-'));
    queue = SqliteAsyncQueue.open(dir);
    return { asyncQueue: queue };
  },
});
beforeEach(() => {
  const logger = () => {};
  runner = new AsyncRunner({
    queue,
    invoker: remote.h.invoker,
    registry: remote.h.registry,
    logSink: registryLogSink(remote.h.registry, logger),
    logger,
  }).start();
});
afterEach(async () => {
  await runner?.close();
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

it('--async prints the id and the status URL; `fn invocation <id> --wait` prints the answer once it ran', async () => {
  await remote.h.deploy(remote.h.acmeKey, 'echo');
  const r = await remote.fn(['invoke', 'echo', '--async', '-d', 'later please']);
  expect(r.code).toBe(0);
  const [id, url] = r.stdout.trim().split('\n');
  expect(url).toBe(`${remote.server.url}/v1/invocations/${id}`);
  expect(r.stderr).toBe(`fn: queued; see what became of it with \`fn invocation ${id}\`\n`);

  const shown = await remote.fn(['invocation', id!, '--wait']);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toBe('ran echo v1');
  expect(shown.stderr).toBe(`fn: invocation ${id} of echo@1: succeeded (1 attempt)\n`);
  // The function got the body, and not fn's own header.
  const call = remote.h.invoker.calls.find((c) => c.invocationId === id)!;
  expect(new TextDecoder().decode(call.request.body)).toBe('later please');
  expect(call.request.headers.map(([n]) => n)).not.toContain('x-fn-invocation-type');
});

it('--async --wait --json prints the final record; a failed one exits 1 with its kind', async () => {
  await remote.h.deploy(remote.h.acmeKey, 'echo');
  const ok = await remote.fn(['invoke', 'echo', '--async', '--wait', '--json']);
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ function: 'echo', status: 'succeeded', attempts: 1, result: { status: 200, body: 'ran echo v1' } });

  remote.h.invoker.behaviour = async () => ({
    response: { status: 500, headers: [], body: new Uint8Array(0) },
    logs: [],
    error: { name: 'TypeError', message: 'x is undefined' },
    cold: false,
    timings: {},
  });
  const failed = await remote.fn(['invoke', 'echo', '--async', '--wait']);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/: failed \(1 attempt\)\nfn: function_error: the function threw TypeError: x is undefined\n$/);
});

it("an unknown id, another tenant's id, and --wait without --async", async () => {
  await remote.h.deploy(remote.h.acmeKey, 'echo');
  const missing = await remote.fn(['invocation', 'no-such-id']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/no asynchronous invocation no-such-id/);

  const mine = (await remote.fn(['invoke', 'echo', '--async'])).stdout.split('\n')[0]!;
  const theirs = await remote.fn(['invocation', mine], { FN_API_KEY: remote.h.globexKey });
  expect(theirs.code).toBe(1);
  expect(theirs.stderr).toMatch(/no asynchronous invocation/);

  const usage = await remote.fn(['invoke', 'echo', '--wait']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/--wait goes with --async/);
});
