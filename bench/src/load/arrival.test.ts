// The open-loop arrival load against a real local HTTP server: every scheduled request is sent,
// each answer's latency kept with its x-fn-cold-start, wrong answers counted as errors.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { arrival } from './arrival.js';

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('x-fn-cold-start', req.url === '/cold' ? 'true' : 'false');
    res.end(req.url === '/wrong' ? 'nope' : 'ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it('sends rate × duration requests over the URLs and tags each answer cold or warm', async () => {
  const result = await arrival({ mode: 'arrival', urls: [`${base}/cold`, `${base}/warm`], expect: 'ok', rate: 100, durationMs: 400 });
  expect(result.latenciesMs).toHaveLength(40);
  expect(result.colds).toHaveLength(40);
  expect(result.errors).toEqual([]);
  expect(new Set(result.colds)).toEqual(new Set([true, false])); // 40 random picks of 2: both
});

it('counts a wrong answer as an error, not a latency', async () => {
  const result = await arrival({ mode: 'arrival', urls: [`${base}/wrong`], expect: 'ok', rate: 50, durationMs: 100 });
  expect(result.latenciesMs).toEqual([]);
  expect(result.errors).toHaveLength(5);
  expect(result.errors[0]).toMatch(/answered "nope", expected "ok"/);
});
