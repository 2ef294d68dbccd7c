/**
 * Translating between HTTP and the invoker: which request headers the function sees, and how an
 * InvokeResult (checked with zod: the invoker's answer is an edge too) becomes the response.
 */
import { z } from 'zod';
import type { InvokeResult } from './deps.js';
import { InvokerContractError } from './errors.js';

/** Hop-by-hop headers describe one connection, not the message; they are never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The caller's API key is fn's credential, not the function's: it never reaches the guest. */
export function forwardedRequestHeaders(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'authorization') out.push([name, value]);
  });
  return out;
}

const InvokeResultSchema = z.object({
  status: z.number().int().min(200).max(599),
  headers: z.array(z.tuple([z.string(), z.string()])),
  body: z.instanceof(Uint8Array),
  logs: z.array(z.object({ level: z.string(), message: z.string(), ms: z.number() })),
  error: z.object({ name: z.string(), message: z.string(), stack: z.string().optional() }).optional(),
  cold: z.boolean(),
  durationMs: z.number().min(0),
});

export function checkResult(value: unknown): InvokeResult {
  const result = InvokeResultSchema.safeParse(value);
  if (!result.success) {
    throw new InvokerContractError(`the invoker returned a malformed result (${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  }
  return result.data;
}

/** Statuses whose responses have no body by definition (fetch refuses one). */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * The function's own response, untouched except for framing: hop-by-hop headers and
 * Content-Length (the server recomputes it) are dropped, and x-fn-* headers are the gateway's, so
 * a function cannot forge them. Headers fetch would refuse are dropped rather than failing.
 */
export function functionResponse(result: InvokeResult, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of result.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || lower.startsWith('x-fn-')) continue;
    try {
      headers.append(name, value);
    } catch {
      // An invalid header name or value from the guest: not worth failing the response for.
    }
  }
  const body = NULL_BODY.has(result.status) || method === 'HEAD' ? null : result.body;
  return new Response(body, { status: result.status, headers });
}
