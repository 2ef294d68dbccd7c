/**
 * Deploy → first answer, from the load process: each round deploys a new version of one function
 * through the control API (a bundle never seen before, so its own snapshot and no warm VM of it)
 * and then invokes it once. The deploy and the first answer are timed apart; the first answer's
 * x-fn-cold-start says whether it really was a cold start.
 */
import { Agent } from 'node:http';
import { once } from './sequential.js';

export interface DeployFirstJob {
  mode: 'deploy-first';
  baseUrl: string;
  apiKey: string;
  tenant: string;
  name: string;
  bundle: string;
  rounds: number;
  expect: string;
}

export interface DeployFirstResult {
  deployMs: number[];
  firstMs: number[];
  colds: (boolean | null)[];
}

export async function deployFirst(job: DeployFirstJob): Promise<DeployFirstResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const result: DeployFirstResult = { deployMs: [], firstMs: [], colds: [] };
  try {
    for (let i = 0; i < job.rounds; i++) {
      const bundle = `${job.bundle}\n// bench round ${i} ${process.pid} ${Date.now()}\n`;
      const started = process.hrtime.bigint();
      const res = await fetch(`${job.baseUrl}/v1/functions?tenant=${encodeURIComponent(job.tenant)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${job.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: job.name, bundle, config: { memoryMiB: 32, timeoutMs: 5000, public: true } }),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`deploying ${job.name} answered ${res.status}: ${text.slice(0, 300)}`);
      result.deployMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      const first = await once(`${job.baseUrl}/fn/${job.tenant}/${job.name}`, agent, { expect: job.expect });
      result.firstMs.push(first.ms);
      result.colds.push(first.cold);
    }
    return result;
  } finally {
    agent.destroy();
  }
}
