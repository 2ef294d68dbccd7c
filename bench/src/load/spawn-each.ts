/**
 * A process per request: runs `argv` `count` times, one after the other, timing each from spawn to
 * exit with its whole stdout read (for a container: runtime start, namespaces, rootfs, node, the
 * handler, teardown). Each run's stdout must be the expected answer. `{id}` in argv is replaced by
 * a name unique to the run (container ids).
 */
import { spawn } from 'node:child_process';

export interface SpawnEachJob {
  mode: 'spawn-each';
  argv: string[];
  count: number;
  warmup: number;
  expect: string;
  /** Unmount /sys/fs/cgroup/unified first (the runner is then started inside `unshare -m`): crun refuses a hybrid cgroup layout. */
  privateCgroupV1?: boolean;
}

export interface SpawnEachResult {
  latenciesMs: number[];
}

function runOnce(argv: string[], expect: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited with ${code}: ${err.trim().slice(-400)}`));
      else if (out !== expect) reject(new Error(`${argv.join(' ')} printed ${JSON.stringify(out.slice(0, 200))}, expected ${JSON.stringify(expect)}`));
      else resolve(ms);
    });
  });
}

export async function spawnEach(job: SpawnEachJob): Promise<SpawnEachResult> {
  const argvFor = (i: number) => job.argv.map((a) => a.replaceAll('{id}', `fnbench-${process.pid}-${i}`));
  for (let i = 0; i < job.warmup; i++) await runOnce(argvFor(-1 - i), job.expect);
  const latenciesMs: number[] = [];
  for (let i = 0; i < job.count; i++) latenciesMs.push(await runOnce(argvFor(i), job.expect));
  return { latenciesMs };
}
