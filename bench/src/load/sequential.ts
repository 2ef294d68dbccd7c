/**
 * One request at a time over one keep-alive connection (node:http, no fetch machinery in the
 * way), timed with hrtime: the latency of a single request, and the Server-Timing it came with.
 */
import { Agent, request } from 'node:http';

export interface SequentialResult {
  latenciesMs: number[];
  serverTimings: string[];
}

function once(url: string, agent: Agent): Promise<{ ms: number; serverTiming: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (res.statusCode !== 200) reject(new Error(`GET ${url} answered ${res.statusCode}`));
        else resolve({ ms, serverTiming: String(res.headers['server-timing'] ?? '') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Each URL `count` times (after `warmup` untimed requests to the first). */
export async function sequential(urls: string[], count: number, warmup: number): Promise<SequentialResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < warmup; i++) await once(urls[0]!, agent);
    const result: SequentialResult = { latenciesMs: [], serverTimings: [] };
    for (const url of urls) {
      for (let i = 0; i < count; i++) {
        const r = await once(url, agent);
        result.latenciesMs.push(r.ms);
        result.serverTimings.push(r.serverTiming);
      }
    }
    return result;
  } finally {
    agent.destroy();
  }
}
