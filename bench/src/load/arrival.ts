/**
 * Mixed load at a constant arrival rate (open loop, like k6's constant-arrival-rate): a request
 * starts every 1/rate s whatever the answers before it are doing, each to a function picked at
 * random among `urls`, so a slow answer queues the next ones instead of slowing the load down (no
 * coordinated omission). Each answer's latency is kept with its x-fn-cold-start.
 */
import { Agent } from 'node:http';
import { once } from './sequential.js';

export interface ArrivalJob {
  mode: 'arrival';
  urls: string[];
  expect: string;
  rate: number;
  durationMs: number;
}

export interface ArrivalResult {
  latenciesMs: number[];
  colds: (boolean | null)[];
  errors: string[];
  /** Requests that could not start on time because the client itself fell behind by > 1 s. */
  late: number;
}

export async function arrival(job: ArrivalJob): Promise<ArrivalResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const result: ArrivalResult = { latenciesMs: [], colds: [], errors: [], late: 0 };
  const total = Math.round((job.rate * job.durationMs) / 1000);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / job.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -1000) result.late += 1;
    const url = job.urls[Math.floor(Math.random() * job.urls.length)]!;
    inflight.push(
      once(url, agent, { expect: job.expect }).then(
        (r) => {
          result.latenciesMs.push(r.ms);
          result.colds.push(r.cold);
        },
        (e: Error) => void result.errors.push(e.message),
      ),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return result;
}
