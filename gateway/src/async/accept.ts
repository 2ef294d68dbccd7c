/**
 * Accepting an asynchronous invocation: `x-fn-invocation-type: async` on any /fn/… request (Lambda's
 * `Event` is taken too). The request is checked as a synchronous one would be, stored durably,
 * and answered 202 with its id; the caller reads the outcome at /v1/invocations/<id>.
 */
import { UnavailableError } from '@fn/contract';
import type { Context } from 'hono';
import type { GatewayEnv } from '../context.js';
import { BadRequestError } from '../errors.js';
import { setInvocationHeaders } from '../invocation-headers.js';
import type { AsyncJob, AsyncQueue } from './queue.js';

export const INVOCATION_TYPE_HEADER = 'x-fn-invocation-type';

/** True for async/event, false for none or sync/requestresponse; anything else is the caller's mistake. */
export function isAsyncRequest(headers: [string, string][]): boolean {
  const value = headers
    .find(([name]) => name === INVOCATION_TYPE_HEADER)?.[1]
    .trim()
    .toLowerCase();
  if (value === undefined || value === 'sync' || value === 'requestresponse') return false;
  if (value === 'async' || value === 'event') return true;
  throw new BadRequestError(`${INVOCATION_TYPE_HEADER} must be "async" or "sync", not ${JSON.stringify(value)}`);
}

/** The header is fn's instruction, not the function's input. */
export function withoutInvocationType(headers: [string, string][]): [string, string][] {
  return headers.filter(([name]) => name !== INVOCATION_TYPE_HEADER);
}

export function statusPath(id: string): string {
  return `/v1/invocations/${encodeURIComponent(id)}`;
}

export async function acceptAsync(c: Context<GatewayEnv>, queue: AsyncQueue, job: AsyncJob): Promise<Response> {
  try {
    await queue.enqueue(job);
  } catch (error) {
    // Nothing was accepted: the caller must send it again (and is told so, with no 202).
    const unavailable = new UnavailableError(`could not queue the asynchronous invocation: ${(error as Error).message}`, { cause: error });
    unavailable.retryAfterSeconds = 1;
    throw unavailable;
  }
  const statusUrl = statusPath(job.id);
  const res = c.json({ id: job.id, status: 'queued' as const, statusUrl }, 202);
  res.headers.set('location', statusUrl);
  setInvocationHeaders(res, { id: job.id, privileged: true });
  return res;
}
