// /openapi.json: a valid OpenAPI 3.1 document that lists every route the app serves.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { INVOKE_METHODS, toOpenApiPath } from './openapi.js';
import { createHarness, type Harness } from './test-support/harness.js';

let h: Harness;
let doc: any;
beforeEach(async () => {
  h = createHarness();
  const res = await h.call('GET', '/openapi.json');
  expect(res.status).toBe(200);
  doc = await res.json();
});
afterEach(() => h.close());

it("is valid OpenAPI 3.1 (checked against the specification's JSON schema)", async () => {
  const validator = new Validator();
  const result = await validator.validate(doc);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
});

it('lists every route the app serves, with every method', () => {
  const middleware = new Set(['/*', '/v1/*']);
  const served = h.app.routes.filter((r) => !middleware.has(r.path));
  expect(served.length).toBeGreaterThan(20);
  for (const r of served) {
    const item = doc.paths[toOpenApiPath(r.path)];
    expect(item, r.path).toBeDefined();
    const methods = r.method === 'ALL' ? INVOKE_METHODS : [r.method.toLowerCase()];
    for (const m of methods) expect(item[m], `${m} ${r.path}`).toBeDefined();
  }
});

it('documents request bodies from the validating schemas: unknown fields are not allowed', () => {
  const deploy = doc.paths['/v1/functions'].post;
  const schema = deploy.requestBody.content['application/json'].schema;
  expect(schema.additionalProperties).toBe(false);
  expect(schema.required).toEqual(['name', 'bundle']);
  expect(schema.properties.config.properties.memoryMiB).toMatchObject({ minimum: 16, maximum: 1024 });
  expect(schema.properties.config.properties.timeoutMs).toMatchObject({ maximum: 900_000 });
  expect(deploy.parameters).toContainEqual(expect.objectContaining({ name: 'tenant', in: 'query', required: false }));
  const logs = doc.paths['/v1/functions/{name}/logs'].get;
  expect(logs.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(['path:name', 'query:tenant', 'query:after', 'query:limit', 'query:since']);
});

it('marks secret values write-only: no response schema has a value field', () => {
  const responses = JSON.stringify(Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.responses)));
  expect(responses).not.toContain('"value"');
});
