/**
 * A control-API route is declared once, with its zod schemas, and that one declaration both
 * validates requests (here) and describes the route in /openapi.json (openapi.ts). Path and query
 * parameters and bodies are all checked; unknown fields and query parameters are rejected.
 */
import type { Authenticated } from '@fn/registry';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { readJson } from './body.js';
import type { GatewayEnv } from './context.js';
import { BadRequestError } from './errors.js';

export type Method = 'get' | 'post' | 'put' | 'delete';
const NoFields = z.strictObject({});
type NoFields = typeof NoFields;

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  /** hono syntax: /v1/functions/:name */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  /** A JSON body; routes without one never read it. */
  body?: B;
  bodyLimit?: number;
  status: 200 | 201 | 204;
  /** Absent for 204. With `produces: 'text/event-stream'`: the data of each event. */
  response?: R;
  /** Default JSON. An event stream's handler returns the streaming Response itself (hono's streamSSE). */
  produces?: 'application/json' | 'text/event-stream';
  /** The error statuses this route can answer besides 400, 401 and 500 (which all can). */
  errors: number[];
}

export interface RouteInput<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  /** Every control route requires a key (auth.ts runs first). */
  caller: Authenticated;
  c: Context<GatewayEnv>;
}

export interface Route {
  spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;
  handle(c: Context<GatewayEnv>): Promise<Response>;
}

export function route<P extends z.ZodType = NoFields, Q extends z.ZodType = NoFields, B extends z.ZodType = z.ZodUndefined, R extends z.ZodType = z.ZodVoid>(
  spec: RouteSpec<P, Q, B, R>,
  handler: (input: RouteInput<P, Q, B>) => z.input<R> | Response | Promise<z.input<R> | Response>,
): Route {
  return {
    spec: spec as unknown as RouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>,
    async handle(c) {
      const params = validate(spec.params ?? NoFields, c.req.param(), 'path');
      const query = validate(spec.query ?? NoFields, c.req.query(), 'query');
      const body = spec.body ? validate(spec.body, await readJson(c.req.raw, spec.bodyLimit ?? 1024 * 1024), 'body') : undefined;
      const caller = c.get('caller');
      if (!caller) throw new Error(`route ${spec.operationId} ran without auth: mount it under the key middleware`);
      const result = await handler({ params, query, body, caller, c } as RouteInput<P, Q, B>);
      if (spec.produces === 'text/event-stream') {
        if (!(result instanceof Response)) throw new Error(`route ${spec.operationId} produces an event stream: its handler must return the Response`);
        return result;
      }
      return spec.status === 204 ? c.body(null, 204) : c.json(result as object, spec.status);
    },
  };
}

export function mount(app: Hono<GatewayEnv>, routes: Route[]): void {
  for (const r of routes) app.on(r.spec.method.toUpperCase(), r.spec.path, (c) => r.handle(c));
}

/**
 * Parses or throws a BadRequestError. Issues are built from each field's path and the rule it
 * broke, never from the value: a value may be a secret.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new BadRequestError(`invalid ${where}: ${issues.join('; ')}`, issues);
}
