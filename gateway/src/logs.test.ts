// Invocation logs: one record per invocation, readable by the owner, paged with a cursor.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, result } from './test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = createHarness();
  await h.deploy(h.acmeKey, 'api');
});
afterEach(() => h.close());

const page = async (query = '') => (await (await h.call('GET', `/v1/functions/api/logs${query}`, { key: h.acmeKey })).json()) as any;

describe('invocation logs', () => {
  it('records status, duration, cold or warm, version and console output of each invocation', async () => {
    h.invoker.behaviour = async () =>
      result({
        status: 200,
        headers: [],
        body: new Uint8Array(),
        logs: [
          { level: 'log', message: 'hello', ms: 0.1 },
          { level: 'trace', message: 'deep', ms: 0.2 },
        ],
        cold: true,
        durationMs: 4.5,
      });
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    const { records } = await page();
    expect(records).toEqual([
      {
        id: expect.any(Number),
        tenant: 'acme',
        function: 'api',
        version: 1,
        invocationId: res.headers.get('x-fn-invocation-id'),
        status: 'ok',
        durationMs: 4.5,
        cold: true,
        logs: [
          { level: 'log', message: 'hello', ms: 0.1 },
          { level: 'debug', message: 'deep', ms: 0.2 },
        ],
        at: expect.any(Number),
      },
    ]);
  });

  it('records a thrown handler as an error with its stack in the log lines', async () => {
    h.invoker.behaviour = async () =>
      result({
        status: 500,
        headers: [],
        body: new Uint8Array(),
        logs: [],
        error: { name: 'TypeError', message: 'nope', stack: 'at fetch (index.js:9)' },
        cold: false,
        durationMs: 1,
      });
    await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    const [record] = (await page()).records;
    expect(record.status).toBe('error');
    expect(record.logs.at(-1)).toMatchObject({ level: 'error', message: expect.stringContaining('TypeError: nope\nat fetch (index.js:9)') });
  });

  it('pages with ?limit= and follows with ?after=<cursor>', async () => {
    for (let i = 0; i < 5; i++) await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    const newest = await page('?limit=2');
    expect(newest.records).toHaveLength(2);
    const all = await page('?after=0&limit=3');
    expect(all.records.map((r: any) => r.id)).toEqual([...all.records.map((r: any) => r.id)].sort((a, b) => a - b));
    expect(all.records).toHaveLength(3);
    const rest = await page(`?after=${all.cursor}`);
    expect(rest.records).toHaveLength(2);
    expect(rest.records[0].id).toBeGreaterThan(all.cursor);
    const none = await page(`?after=${rest.cursor}`);
    expect(none).toEqual({ records: [], cursor: rest.cursor });
    await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect((await page(`?after=${rest.cursor}`)).records).toHaveLength(1);
  });

  it('filters with ?since=', async () => {
    await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect((await page(`?since=${Date.now() + 60_000}`)).records).toEqual([]);
    expect((await page('?since=0')).records).toHaveLength(1);
  });
});
