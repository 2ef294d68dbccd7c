/**
 * GET /v1/invocations/<id>: what became of an asynchronous invocation. A tenant key sees only its
 * tenant's invocations (another's answers 404, as a missing one: ids are not confirmed to
 * strangers); an admin key sees any. Records expire RECORD_RETENTION_MS (24 h) after acceptance.
 */
import { NotFoundError } from '@fn/registry';
import { z } from 'zod';
import { ASYNC_STATUSES, type AsyncQueue, type InvocationRecord } from '../async/queue.js';
import { route, type Route } from '../route-book.js';

const InvocationParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be an invocation id') });

export const InvocationStatusBody = z.object({
  id: z.string(),
  tenant: z.string(),
  function: z.string(),
  version: z.number().int(),
  status: z.enum(ASYNC_STATUSES),
  attempts: z.number().int().describe('Attempts started so far.'),
  result: z
    .object({
      status: z.number().int(),
      headers: z.array(z.tuple([z.string(), z.string()])),
      body: z.string().optional().describe('The body as text, when it is valid UTF-8.'),
      bodyBase64: z.string().optional().describe('The body as base64, when it is not valid UTF-8.'),
    })
    .optional()
    .describe("The function's response, once succeeded (its own 4xx/5xx included)."),
  error: z
    .object({ kind: z.string(), message: z.string() })
    .optional()
    .describe('Why it failed (failed, dead_lettered), or why the last attempt failed (queued for a retry).'),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().optional(),
});

export function invocationRoutes(queue: AsyncQueue | undefined): Route[] {
  return [
    route(
      {
        method: 'get',
        path: '/v1/invocations/:id',
        operationId: 'getInvocation',
        summary: 'The status and result of an asynchronous invocation (kept 24 h)',
        tag: 'invocations',
        params: InvocationParams,
        status: 200,
        response: InvocationStatusBody,
        errors: [404],
      },
      async ({ caller, params, c }) => {
        const record = queue ? await queue.record(params.id) : undefined;
        if (!record || (caller.tenantId !== null && caller.tenantId !== record.tenant))
          throw new NotFoundError(`no asynchronous invocation ${params.id} (records are kept 24 h, and only for the tenant that made them)`);
        c.set('tenant', record.tenant);
        return present(record);
      },
    ),
  ];
}

function present(record: InvocationRecord): z.input<typeof InvocationStatusBody> {
  const { result, error, finishedAt, ...rest } = record;
  return {
    ...rest,
    ...(result ? { result: { status: result.status, headers: result.headers, ...bodyOf(result.bodyBase64) } } : {}),
    ...(error ? { error } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
  };
}

function bodyOf(base64: string): { body: string } | { bodyBase64: string } {
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(base64, 'base64')) };
  } catch {
    return { bodyBase64: base64 };
  }
}
