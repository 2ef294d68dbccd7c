/**
 * The load generator, run as its own process so that the load never shares an event loop (or a
 * CPU's time slices, as far as the OS allows) with the server it measures. Reads one job as JSON
 * from argv, prints one JSON result on stdout.
 *
 *   { mode: 'sequential', url, count, warmup }  one keep-alive connection, one request at a time:
 *        every latency in ms (µs precision) and each answer's Server-Timing header
 *   { mode: 'each', urls }                      one request per URL, in order (cold starts)
 *   { mode: 'throughput', url, connections, durationMs }  autocannon: requests per second
 *   { mode: 'deploy-first', ... }               deploy-first.ts: deploy a new version, first answer
 *   { mode: 'spawn-each', argv, count, ... }    spawn-each.ts: a process (or container) per request
 *   { mode: 'arrival', urls, rate, durationMs } arrival.ts: constant arrival rate over many functions
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { arrival, type ArrivalJob, type ArrivalResult } from './arrival.js';
import { deployFirst, type DeployFirstJob, type DeployFirstResult } from './deploy-first.js';
import { sequential, type RequestShape, type SequentialResult } from './sequential.js';
import { spawnEach, type SpawnEachJob, type SpawnEachResult } from './spawn-each.js';

export type LoadJob =
  | ({ mode: 'sequential'; url: string; count: number; warmup: number } & RequestShape)
  | { mode: 'each'; urls: string[] }
  | { mode: 'throughput'; url: string; connections: number; durationMs: number }
  | DeployFirstJob
  | SpawnEachJob
  | ArrivalJob;

export interface ThroughputResult {
  rps: number;
  non2xx: number;
  errors: number;
}

export type LoadResult = SequentialResult | ThroughputResult | DeployFirstResult | SpawnEachResult | ArrivalResult;

async function run(job: LoadJob): Promise<LoadResult> {
  switch (job.mode) {
    case 'sequential':
      return sequential([job.url], job.count, job.warmup, job);
    case 'each':
      return sequential(job.urls, 1, 0);
    case 'throughput': {
      const result = await autocannon({ url: job.url, connections: job.connections, duration: job.durationMs / 1000 });
      return { rps: result.requests.total / (job.durationMs / 1000), non2xx: result.non2xx, errors: result.errors };
    }
    case 'deploy-first':
      return deployFirst(job);
    case 'arrival':
      return arrival(job);
    case 'spawn-each':
      if (job.privateCgroupV1) execFileSync('umount', ['/sys/fs/cgroup/unified'], { stdio: 'inherit' });
      return spawnEach(job);
  }
}

run(JSON.parse(process.argv[2] ?? '{}') as LoadJob).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (err: unknown) => {
    // The stack first, the message last: the parent reports the last line (load/spawn.ts).
    process.stderr.write(`${(err as Error).stack ?? ''}\nload-runner: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
