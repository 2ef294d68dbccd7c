// Property-based fuzzing of the control API (issue 13, deliverable 3), against a real platform
// over real HTTP (gateway, registry, scheduler, worker and VMs; deploys take real snapshots).
// Requests are generated from /openapi.json — itself generated from the zod schemas that validate
// them — and bent: fields replaced, dropped or added, bodies that are not JSON or nest 5000 deep,
// `__proto__`, path segments that are not names (`..`, NUL, 300 characters, other tenants'),
// unknown query parameters, keys of the wrong tenant or none or garbage, odd content types and
// extra headers. Every answer must be below 500, every error a JSON ErrorBody with a message and a
// request id, and the platform must serve a function afterwards. FN_FUZZ_RUNS for more requests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../gateway/src/schemas.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { startPlatform, type RunningPlatform } from '../start-platform.js';
import { bodyText, type JsonSchema, valid } from './schema-arbitrary.js';

const RUNS = Number(process.env.FN_FUZZ_RUNS) || 400;
const HELLO = "export default { async fetch() { return new Response('alive'); } };";

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: 'path' | 'query'; schema: JsonSchema }[];
  body?: JsonSchema;
}
interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

describe('control API fuzzed from its schemas, against a running platform', () => {
  let p: RunningPlatform;
  let keys: { admin: string; acme: string; globex: string };
  let operations: Operation[];
  const statuses = new Map<number, number>();

  const call = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${p.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    p = await startPlatform({ dataDir: mkdtempSync(join(tmpdir(), 'fn-fuzz-api-')), port: 0, logger: () => {} });
    const admin = p.newAdminKey!;
    const tenantKey = async (name: string) => {
      expect((await call('POST', '/v1/tenants', admin, { name })).status).toBe(201);
      const res = await call('POST', '/v1/keys', admin, { tenant: name });
      return ((await res.json()) as { secret: string }).secret;
    };
    keys = { admin, acme: await tenantKey('acme'), globex: await tenantKey('globex') };
    // A function the fuzzer can reach by name (so deep routes are exercised), and one in a tenant
    // it never names, which must still answer at the end.
    for (const [tenant, name] of [
      ['acme', 'hello'],
      ['keeper-of-the-end', 'keeper'],
    ]) {
      if (tenant !== 'acme') expect((await call('POST', '/v1/tenants', admin, { name: tenant })).status).toBe(201);
      const res = await call('POST', `/v1/functions?tenant=${tenant}`, admin, { name, bundle: HELLO, config: { public: true } });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const doc = (await (await fetch(`${p.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Operation['params']; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
    };
    operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => ({
          method: method.toUpperCase(),
          path,
          params: op.parameters ?? [],
          ...(op.requestBody ? { body: op.requestBody.content['application/json']!.schema } : {}),
        })),
      );
  }, scaledTimeout(120_000));
  afterAll(async () => {
    await p?.close();
  });

  /** A path or query value: what the schema allows, names that exist, or something hostile. */
  const paramValue = (schema: JsonSchema) =>
    fc.oneof(
      { weight: 4, arbitrary: (valid(schema) as fc.Arbitrary<string>).map(encodeURIComponent) },
      { weight: 3, arbitrary: fc.constantFrom('hello', 'acme', 'globex', 'live', 'keeper', 'API_KEY', '0123456789abcdef') },
      {
        weight: 2,
        arbitrary: fc.oneof(
          fc.string({ maxLength: 30, unit: 'binary' }).map(encodeURIComponent),
          fc.constantFrom('..', '%2e%2e', '%2E%2E%2F', '%00', 'a%2Fb', '__proto__', 'constructor', 'HELLO', 'hello@1', 'x'.repeat(300), '%', '%zz', ''),
        ),
      },
    );

  const request = (): fc.Arbitrary<FuzzRequest> =>
    fc.constantFrom(...operations).chain((op) => {
      const pathParams = op.params.filter((x) => x.in === 'path');
      const queryParams = op.params.filter((x) => x.in === 'query');
      return fc
        .record({
          method: fc.oneof(
            { weight: 9, arbitrary: fc.constant(op.method) },
            { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
          ),
          path: fc
            .tuple(...pathParams.map((x) => paramValue(x.schema)))
            .map((values) => pathParams.reduce((path, x, i) => path.replace(`{${x.name}}`, values[i]!), op.path)),
          query: fc.tuple(
            fc.tuple(...queryParams.map((x) => fc.option(paramValue(x.schema), { nil: undefined }))),
            fc.oneof(
              { weight: 6, arbitrary: fc.constant(undefined) },
              { weight: 1, arbitrary: fc.tuple(fc.constantFrom('unknown', 'tenant', '__proto__', 'limit'), fc.string({ maxLength: 10 })) },
            ),
          ),
          auth: fc.oneof(
            { weight: 10, arbitrary: fc.constantFrom<string | undefined>('admin', 'acme', 'acme', 'globex') },
            { weight: 1, arbitrary: fc.constantFrom(undefined, 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'Bearer ', 'Bearer fn_0123456789abcdef_guess', 'bearer') },
            { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, '')}`) },
          ),
          contentType: fc.constantFrom<string | undefined>(
            'application/json',
            'application/json',
            undefined,
            'text/plain',
            'application/json; charset=utf-16',
            'multipart/form-data; boundary=x',
          ),
          extra: fc.dictionary(
            fc.stringMatching(/^x-[a-z]{1,12}$/),
            fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
            { maxKeys: 4 },
          ),
          body: op.body ? bodyText(op.body) : fc.option(fc.constantFrom('{}', 'null', '{"x":1}'), { nil: undefined }),
          bundle: fc.constantFrom<string | undefined>(undefined, undefined, undefined, HELLO),
        })
        .map((r) => {
          const query = [
            ...queryParams.flatMap((x, i) => (r.query[0][i] === undefined ? [] : [`${x.name}=${r.query[0][i]}`])),
            ...(r.query[1] ? [`${r.query[1][0]}=${encodeURIComponent(r.query[1][1])}`] : []),
          ].join('&');
          const headers: Record<string, string> = { ...r.extra };
          if (r.auth !== undefined) {
            const key = keys[r.auth as keyof typeof keys];
            headers.authorization = key ? `Bearer ${key}` : r.auth;
          }
          if (r.contentType) headers['content-type'] = r.contentType;
          // Some deploys carry a bundle that loads, so real deploys happen among the refusals.
          let body = r.body;
          if (r.bundle && op.path === '/v1/functions' && body?.startsWith('{')) body = body.replace(/"bundle":"[^"]*"/, `"bundle":${JSON.stringify(r.bundle)}`);
          const withBody = r.method !== 'GET' && r.method !== 'HEAD';
          return { method: r.method, url: `${r.path}${query ? `?${query}` : ''}`, headers, body: withBody ? body : undefined };
        });
    });

  it(`${RUNS} generated requests: none answers 5xx, every error is a JSON ErrorBody`, { timeout: scaledTimeout(600_000) }, async () => {
    expect(operations.length).toBeGreaterThan(15);
    await fc.assert(
      fc.asyncProperty(request(), async (r) => {
        const res = await fetch(`${p.url}${r.url}`, { method: r.method, headers: r.headers, ...(r.body === undefined ? {} : { body: r.body }) });
        // An event stream (the console's live tail) stays open: its status and headers are its answer.
        const streaming = res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
        if (streaming) await res.body?.cancel();
        const text = streaming ? '' : await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const what = `${r.method} ${r.url} → ${res.status} ${text.slice(0, 300)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400 && r.method !== 'OPTIONS') {
          expect(res.headers.get('content-type') ?? '', what).toMatch(/^application\/json/);
          const parsed = ErrorBody.safeParse(JSON.parse(text));
          expect(parsed.success, what).toBe(true);
          expect(parsed.data!.error.message.length, what).toBeGreaterThan(0);
          expect(parsed.data!.error.requestId.length, what).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
    console.info(`control API fuzz, ${RUNS} requests, by status: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    // The generators reach past validation, or the run says little about the handlers behind it.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  });

  it(`${Math.ceil(RUNS / 2)} generated invocations (any method, path, query, headers, body): none answers 5xx from a function that cannot fail`, {
    timeout: scaledTimeout(600_000),
  }, async () => {
    const invokeStatuses = new Map<number, number>();
    const segment = fc.oneof(
      { weight: 4, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }).map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.constantFrom('..', '%2e%2e', '%00', '%2F', '%', '%zz', '', 'x'.repeat(300)) },
    );
    const invocation = fc.record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'),
      tenant: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('acme', 'keeper-of-the-end', 'globex') }, { weight: 1, arbitrary: segment }),
      fn: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.constantFrom(
            'hello',
            'keeper',
            'hello@1',
            'hello@live',
            'hello@2',
            'HELLO',
            'hello@',
            'hello@@1',
            'hello@0',
            'hello@99999999999999999999',
          ),
        },
        { weight: 1, arbitrary: segment },
      ),
      rest: fc.array(segment, { maxLength: 4 }),
      query: fc.option(fc.string({ maxLength: 40 }).map(encodeURIComponent), { nil: undefined }),
      auth: fc.constantFrom<keyof typeof keys | undefined>(undefined, 'acme', 'globex', 'admin'),
      headers: fc.oneof(
        {
          weight: 6,
          arbitrary: fc.dictionary(
            fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
            fc.string({ maxLength: 60 }).map((v) => v.replace(/[^\x20-\x7e]/g, '')),
            { maxKeys: 8 },
          ),
        },
        {
          weight: 1,
          arbitrary: fc.integer({ min: 250, max: 320 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, String(i)]))),
        },
      ),
      body: fc.uint8Array({ maxLength: 4096 }),
    });
    await fc.assert(
      fc.asyncProperty(invocation, async (r) => {
        const url = `/fn/${r.tenant}/${r.fn}${r.rest.map((x) => `/${x}`).join('')}${r.query === undefined ? '' : `?q=${r.query}`}`;
        const headers: Record<string, string> = { ...r.headers, ...(r.auth ? { authorization: `Bearer ${keys[r.auth]}` } : {}) };
        const withBody = r.method !== 'GET' && r.method !== 'HEAD';
        const res = await fetch(`${p.url}${url}`, { method: r.method, headers, ...(withBody ? { body: r.body } : {}) });
        const text = await res.text();
        invokeStatuses.set(res.status, (invokeStatuses.get(res.status) ?? 0) + 1);
        const what = `${r.method} ${url.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
        // hello and keeper answer 'alive' to anything: a 5xx can only be the platform's.
        expect(res.status, what).toBeLessThan(500);
        if (res.status === 200 && r.method !== 'HEAD') expect(text, what).toBe('alive');
        if (res.status >= 400 && r.method !== 'HEAD') expect(ErrorBody.safeParse(JSON.parse(text)).success, what).toBe(true);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    console.info(
      `invocation fuzz, ${Math.ceil(RUNS / 2)} requests, by status: ${JSON.stringify(Object.fromEntries([...invokeStatuses].sort(([a], [b]) => a - b)))}`,
    );
    expect(invokeStatuses.get(200) ?? 0).toBeGreaterThan(0);
  });

  it('the platform serves afterwards: the control API answers and a function runs', async () => {
    expect((await call('GET', '/v1/whoami', keys.admin)).status).toBe(200);
    const res = await fetch(`${p.url}/fn/keeper-of-the-end/keeper`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('alive');
  });
});
