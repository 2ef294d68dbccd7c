/**
 * The convenient request form of MicroVM.invoke() (everything optional, headers as a record, a
 * string body) checked and turned into the invocation contract's VmRequest. For in-process callers
 * that build requests by hand: fn run, tests, benchmarks, Worker.invoke().
 */
import { randomUUID } from 'node:crypto';
import type { VmRequest } from '@fn/contract';
import { InvalidInputError, PayloadTooLargeError } from './errors.js';
import { parseOrThrow } from './parse.js';
import { InvokeRequestSchema, REQUEST_BODY_MAX, type InvokeRequest } from './schemas.js';

export function toVmRequest(input: InvokeRequest = {}): VmRequest {
  const req = parseOrThrow(InvokeRequestSchema, input, 'invocation request');
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : (req.body ?? new Uint8Array(0));
  if (body.length > REQUEST_BODY_MAX) throw new PayloadTooLargeError('request', body.length, REQUEST_BODY_MAX);
  if (!/^https?:\/\//i.test(req.url) && !req.url.startsWith('/')) {
    throw new InvalidInputError(`the request url "${req.url}" must be a path starting with / or an absolute http(s) URL`);
  }
  return {
    method: req.method.toUpperCase(),
    url: req.url,
    headers: Array.isArray(req.headers) ? req.headers : Object.entries(req.headers),
    body,
    invocationId: req.invocationId ?? randomUUID(),
    env: req.env ?? {},
  };
}
