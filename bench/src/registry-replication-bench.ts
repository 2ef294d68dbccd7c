/**
 * npm run bench:registry [-- --quick] [-- --json]
 *
 * The shared registry (registry/src/shared) on a real nats-server: two copies, "gateway A" and
 * "gateway B", each with its own NATS connection and data directory, in this process.
 *
 *   write_p50/p99     one registry write on A (an env change publishing a version): dry run,
 *                     append to the stream with expect-last-sequence, apply to A's SQLite
 *   lag_p50/p99       from A's write resolving until B has applied it (B's ordered consumer);
 *                     0 when B had it first (B's delivery can beat A's publish ack)
 *   on_b_p50/p99      from A's write starting until B has applied it
 *   local_write_p50   the same write on a plain one-machine Registry (the baseline)
 *   rebuild_ms        a new copy with an empty data directory replaying the whole stream
 *
 * Writes are one at a time. The lag is sampled by polling B every event-loop turn, in the same
 * process as A, so it includes B's share of this one process's time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { ADMIN, Registry, SharedRegistry } from '@fn/registry';
import { percentile, round } from './stats.js';
import { parseBenchArgs, progress, report } from './report.js';

const args = parseBenchArgs(process.argv.slice(2));
const writes = args.quick ? 100 : 1000;
const temps: string[] = [];
let nats: ChildProcess | undefined;
const CONFIG = { entry: 'index.js', memoryMiB: 64, timeoutMs: 1000, maxConcurrency: 4, public: false };
const DIGEST = `sha256:${'a'.repeat(64)}`;

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

async function startNats(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as { port: number };
      s.close(() => resolve(p));
    });
  });
  nats = spawn(process.env.FN_NATS_SERVER ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', temp('fn-bench-nats-')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  nats.stderr!.on('data', (b) => (log += b));
  for (const start = Date.now(); !log.includes('Server is ready'); ) {
    if (Date.now() - start > 20_000 || nats.exitCode !== null) throw new Error(`nats-server did not start (install it: apt-get install nats-server):\n${log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return `nats://127.0.0.1:${port}`;
}

async function main(): Promise<void> {
  const url = await startNats();
  const keyFile = join(temp('fn-bench-key-'), 'secrets.key');
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const [ncA, ncB] = [await connect({ servers: url }), await connect({ servers: url })];
  const a = await SharedRegistry.open(temp('fn-bench-a-'), ncA, { secretKeyFile: keyFile });
  const b = await SharedRegistry.open(temp('fn-bench-b-'), ncB, { secretKeyFile: keyFile });
  const local = Registry.open(temp('fn-bench-local-'));
  for (const r of [a, local]) {
    await r.tenants.create(ADMIN, 'bench');
    await r.functions.createVersion({ tenant: 'bench', name: 'api', bundleDigest: DIGEST, snapshotDigest: DIGEST, config: CONFIG, env: {} });
  }

  progress(`${writes} writes on A, each waited for on B`);
  const writeMs: number[] = [];
  const lagMs: number[] = [];
  const onBMs: number[] = [];
  for (let i = 0; i < writes; i++) {
    const start = performance.now();
    await a.env.setEnv('bench', 'api', { N: String(i) });
    const written = performance.now();
    const target = a.appliedSeq;
    while (b.appliedSeq < target) await new Promise((r) => setImmediate(r));
    writeMs.push(written - start);
    lagMs.push(performance.now() - written);
    onBMs.push(performance.now() - start);
  }
  const localMs: number[] = [];
  for (let i = 0; i < writes; i++) {
    const start = performance.now();
    local.env.setEnv('bench', 'api', { N: String(i) });
    localMs.push(performance.now() - start);
  }
  if (JSON.stringify(b.functions.resolve('bench', 'api').env) !== JSON.stringify({ N: String(writes - 1) })) throw new Error("B did not end with A's last env");

  progress('a new copy replays the stream');
  const ncC = await connect({ servers: url });
  const rebuildStart = performance.now();
  const c = await SharedRegistry.open(temp('fn-bench-c-'), ncC, { secretKeyFile: keyFile });
  const rebuildMs = performance.now() - rebuildStart;
  const changes = c.appliedSeq;
  c.close();
  await ncC.close();

  const ms = (values: number[], p: number) => round(percentile(values, p), 2);
  report(
    'registry-replication',
    {
      writes,
      write_p50_ms: ms(writeMs, 50),
      write_p99_ms: ms(writeMs, 99),
      lag_p50_ms: ms(lagMs, 50),
      lag_p99_ms: ms(lagMs, 99),
      on_b_p50_ms: ms(onBMs, 50),
      on_b_p99_ms: ms(onBMs, 99),
      local_write_p50_ms: ms(localMs, 50),
      rebuild_changes: changes,
      rebuild_ms: round(rebuildMs, 0),
    },
    {
      write_p50_ms: 'shared registry write on A (dry run, append with CAS, apply)',
      lag_p50_ms: "until B's copy has it, after A's write resolved",
      on_b_p50_ms: "from A's write call until B's copy has it",
      local_write_p50_ms: 'the same write on a one-machine Registry',
      rebuild_ms: 'a new gateway copy with an empty data directory replaying the stream',
    },
    args,
  );
  a.close();
  b.close();
  local.close();
  await Promise.all([ncA.close(), ncB.close()]);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    nats?.kill('SIGKILL');
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });
