/**
 * The envelope a reply travels in, and how a thrown error becomes plain data and back. Shared by
 * every transport so a handler's error looks the same to the requester on any of them.
 */
import { z } from 'zod';
import { RemoteError, type ErrorDetails } from './errors.js';

const MAX_ERROR_TEXT = 4096;

const Primitive = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const WireErrorSchema = z.object({
  name: z.string().max(200),
  message: z.string().max(MAX_ERROR_TEXT),
  code: z.string().max(200).optional(),
  details: z.record(z.string(), Primitive).default({}),
});
export type WireError = z.output<typeof WireErrorSchema>;

/** A transport hands replies through untouched; the contract layer checks the envelope itself. */
export const WireReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: WireErrorSchema }),
]);
export type WireReply = z.output<typeof WireReplySchema>;

/** Fields that are not details: the error's identity, and what must not leave the process. */
const NOT_DETAILS = new Set(['name', 'message', 'stack', 'cause', 'code']);

/**
 * Turns whatever a handler threw into plain data. Details are the error's own primitive fields
 * (OverloadedError's retryAfterSeconds and scope, say): enough to rebuild a typed error on the
 * other side, and nothing that could drag an object graph or a stack onto the wire.
 */
export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) {
    return { name: 'Error', message: clip(String(err)), details: {} };
  }
  const details: ErrorDetails = {};
  for (const [key, value] of Object.entries(err)) {
    if (NOT_DETAILS.has(key)) continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      details[key] = typeof value === 'string' ? clip(value) : (value as number | boolean | null);
    }
  }
  const code = (err as { code?: unknown }).code;
  return {
    name: clip(err.name, 200),
    message: clip(err.message),
    ...(typeof code === 'string' ? { code: clip(code, 200) } : {}),
    details,
  };
}

export function fromWireError(subject: string, e: WireError): RemoteError {
  return new RemoteError(subject, e.name, e.message, e.code, e.details);
}

function clip(text: string, max = MAX_ERROR_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
