/**
 * One request at a time over one keep-alive connection (node:http, no fetch machinery in the
 * way), timed with hrtime: the latency of a single request, and the Server-Timing it came with.
 */
import { Agent, request } from 'node:http';

export interface SequentialResult {
  latenciesMs: number[];
  serverTimings: string[];
  /** Each answer's x-fn-cold-start: true, false, or null when absent (not fn). */
  colds: (boolean | null)[];
}

/** A JSON body to POST instead of a GET, and the exact answer body expected. */
export interface RequestShape {
  body?: string;
  expect?: string;
}

export function once(url: string, agent: Agent, shape: RequestShape = {}): Promise<{ ms: number; serverTiming: string; cold: boolean | null }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const method = shape.body === undefined ? 'GET' : 'POST';
    const headers = shape.body === undefined ? {} : { 'content-type': 'application/json' };
    const req = request(url, { agent, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const cold = res.headers['x-fn-cold-start'];
        if (res.statusCode !== 200) reject(new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`));
        else if (shape.expect !== undefined && text !== shape.expect)
          reject(new Error(`${method} ${url} answered ${JSON.stringify(text.slice(0, 200))}, expected ${JSON.stringify(shape.expect)}`));
        else resolve({ ms, serverTiming: String(res.headers['server-timing'] ?? ''), cold: cold === undefined ? null : cold === 'true' });
      });
    });
    req.on('error', reject);
    req.end(shape.body);
  });
}

/** Each URL `count` times (after `warmup` untimed requests to the first). */
export async function sequential(urls: string[], count: number, warmup: number, shape: RequestShape = {}): Promise<SequentialResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < warmup; i++) await once(urls[0]!, agent, shape);
    const result: SequentialResult = { latenciesMs: [], serverTimings: [], colds: [] };
    for (const url of urls) {
      for (let i = 0; i < count; i++) {
        const r = await once(url, agent, shape);
        result.latenciesMs.push(r.ms);
        result.serverTimings.push(r.serverTiming);
        result.colds.push(r.cold);
      }
    }
    return result;
  } finally {
    agent.destroy();
  }
}
