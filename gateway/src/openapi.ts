/**
 * /openapi.json: an OpenAPI 3.1 document built from the route book, the same zod schemas that
 * validate requests (z.toJSONSchema, JSON Schema 2020-12, which is what OpenAPI 3.1 speaks).
 * Request shapes are documented as accepted (io: 'input': fields with defaults are optional),
 * responses as produced. The invocation endpoints take any body, so they are described by hand.
 */
import { z } from 'zod';
import type { Route } from './route-book.js';
import { ErrorBody } from './schemas.js';
import { operationsPaths } from './metrics/openapi-paths.js';

type Json = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'Invalid request: a malformed body, an unknown field, a bad parameter',
  401: 'Missing or invalid API key',
  403: 'The key may not do this (not admin, or another tenant)',
  404: 'Not found (for this tenant)',
  409: 'Conflicts with what is stored',
  413: 'Body, headers or URL over their size limit',
  429: 'Too many concurrent invocations: retry after Retry-After seconds',
  500: 'The function threw, ran out of memory or crashed (type says which), or an internal error',
  502: 'The function answered outside the limits (bad_response)',
  503: 'The platform cannot run invocations right now',
  504: 'The invocation or deploy did not finish in time',
};

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

const errorRef = { $ref: '#/components/schemas/Error' };
const errorResponse = (status: number): Json => ({ description: STATUS_TEXT[status] ?? 'Error', content: { 'application/json': { schema: errorRef } } });

/** Each property of an object schema becomes one path or query parameter. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

function operation(route: Route): Json {
  const { spec } = route;
  const responses: Json = {
    [spec.status]:
      spec.produces === 'text/event-stream'
        ? {
            description: 'Server-sent events; the data of each is JSON',
            content: { 'text/event-stream': { schema: { type: 'string' }, 'x-item-schema': spec.response ? schemaOf(spec.response, 'output') : {} } },
          }
        : spec.response
          ? { description: STATUS_TEXT[spec.status], content: { 'application/json': { schema: schemaOf(spec.response, 'output') } } }
          : { description: STATUS_TEXT[spec.status] },
  };
  for (const status of [400, 401, ...spec.errors, 500].sort()) responses[status] = errorResponse(status);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    tags: [spec.tag],
    parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
    ...(spec.body
      ? { requestBody: { required: !spec.body.safeParse(undefined).success, content: { 'application/json': { schema: schemaOf(spec.body, 'input') } } } }
      : {}),
    responses,
  };
}

export const toOpenApiPath = (honoPath: string): string => honoPath.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\/\*$/, '/{path}');

export const INVOKE_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

function invocationPaths(): Json {
  const invokeParams = (withPath: boolean): Json[] => [
    { name: 'tenant', in: 'path', required: true, schema: { type: 'string' }, description: "The function's tenant." },
    {
      name: 'function',
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: 'name (the version live points at), name@<version> or name@<alias>.',
    },
    ...(withPath
      ? [{ name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'The rest of the path, passed to the function (may contain /).' }]
      : []),
    {
      name: 'x-fn-invocation-type',
      in: 'header',
      required: false,
      schema: { type: 'string', enum: ['sync', 'async', 'RequestResponse', 'Event'] },
      description: 'async (or Event): queue the invocation and answer 202 at once. Default sync.',
    },
  ];
  const invocationHeaders = {
    'x-fn-invocation-id': { description: 'The invocation id (also in the logs).', schema: { type: 'string' } },
    'x-fn-cold-start': { description: 'true when a VM had to be restored for this invocation.', schema: { type: 'string', enum: ['true', 'false'] } },
    'x-fn-duration-ms': { description: "The function's run time in milliseconds.", schema: { type: 'string' } },
    'server-timing': {
      description: 'Where the time went, hop by hop: gateway, registry, bus, scheduler, worker, restore (cold), ipc, host, vm, guest (milliseconds each).',
      schema: { type: 'string' },
    },
  };
  const op = (method: string, withPath: boolean): Json => ({
    operationId: `invoke${withPath ? 'Path' : ''}_${method}`,
    summary: 'Invoke a function: its status, headers and body are returned as they are',
    description:
      'Private functions need an API key of their tenant or an admin key; public ones need none. Bodies up to 6 MiB, headers up to 256 and 16 KiB (413 beyond). Failures by kind: 500 function_error, out_of_memory, function_crashed; 502 bad_response; 429 overloaded; 503 unavailable; 504 timeout. With `x-fn-invocation-type: async` the request is queued instead and answered 202 `{ id, status, statusUrl }` (see GET /v1/invocations/{id}).',
    tags: ['invocation'],
    security: [{}, { bearer: [] }],
    parameters: invokeParams(withPath),
    ...(method === 'get' || method === 'head' ? {} : { requestBody: { required: false, content: { '*/*': { schema: {} } } } }),
    responses: {
      default: { description: "The function's own response", headers: invocationHeaders, content: { '*/*': { schema: {} } } },
      202: {
        description: 'Queued (x-fn-invocation-type: async): read the outcome at statusUrl',
        headers: { location: { description: 'The status URL.', schema: { type: 'string' } } },
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['id', 'status', 'statusUrl'],
              properties: { id: { type: 'string' }, status: { type: 'string', enum: ['queued'] }, statusUrl: { type: 'string' } },
            },
          },
        },
      },
      ...Object.fromEntries([400, 401, 404, 413, 429, 500, 502, 503, 504].map((s) => [s, errorResponse(s)])),
    },
  });
  const item = (withPath: boolean) => Object.fromEntries(INVOKE_METHODS.map((m) => [m, op(m, withPath)]));
  return { '/fn/{tenant}/{function}': item(false), '/fn/{tenant}/{function}/{path}': item(true) };
}

/** The web console's page and files (no key: the page asks for one and calls /v1/console). */
function consolePaths(): Json {
  const get = (operationId: string, summary: string, parameters: Json[], responses: Json): Json => ({
    get: { operationId, summary, tags: ['console'], security: [], parameters, responses },
  });
  return {
    '/console': get('consoleRedirect', 'Redirects to /console/', [], { 301: { description: 'To /console/' } }),
    '/console/{path}': get(
      'consoleFile',
      'The web console: index.html at /console/, its script and style beside it',
      [{ name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'A file of the console (empty for index.html).' }],
      { 200: { description: 'The file', content: { 'text/html': { schema: { type: 'string' } } } }, 404: errorResponse(404) },
    ),
  };
}

export function openApiDocument(routes: Route[]): Json {
  const paths: Record<string, Json> = {
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        tags: ['meta'],
        security: [],
        responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    ...consolePaths(),
  };
  for (const route of routes) {
    const path = toOpenApiPath(route.spec.path);
    paths[path] = { ...paths[path], [route.spec.method]: operation(route) };
  }
  Object.assign(paths, invocationPaths());
  Object.assign(paths, operationsPaths());
  return {
    openapi: '3.1.0',
    info: {
      title: 'fn gateway',
      version: '1',
      description: 'Control API (/v1, API key required; admin keys act for a tenant with ?tenant=) and invocation endpoints (/fn).',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' } },
      schemas: { Error: schemaOf(ErrorBody, 'output') },
    },
  };
}
