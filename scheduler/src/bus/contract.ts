/**
 * Contracts: a subject with the zod schemas of what travels on it. Both ends check every message
 * against the contract — the sender before it leaves, the receiver when it arrives — because on
 * NATS the other end may be another build, another machine, or not ours at all.
 *
 * Schemas must describe the wire form and be idempotent: the sender sends the parsed output and the
 * receiver parses it again, so a schema whose output would not parse again (a transform from string
 * to number, say) does not belong in a contract.
 */
import type { z } from 'zod';
import { BusContractError } from './errors.js';
import { parseSubject } from './subjects.js';

/** Request-reply: `subject` may hold wildcards; callers then pass the concrete subject. */
export interface Contract<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType> {
  readonly kind: 'rpc';
  readonly subject: string;
  readonly request: Req;
  readonly reply: Rep;
}

/** Publish-subscribe: one message schema, no reply. */
export interface EventContract<Msg extends z.ZodType = z.ZodType> {
  readonly kind: 'event';
  readonly subject: string;
  readonly message: Msg;
}

export type RequestIn<C extends Contract> = z.input<C['request']>;
export type RequestOut<C extends Contract> = z.output<C['request']>;
export type ReplyIn<C extends Contract> = z.input<C['reply']>;
export type ReplyOut<C extends Contract> = z.output<C['reply']>;
export type MessageIn<E extends EventContract> = z.input<E['message']>;
export type MessageOut<E extends EventContract> = z.output<E['message']>;

export function defineContract<Req extends z.ZodType, Rep extends z.ZodType>(c: { subject: string; request: Req; reply: Rep }): Contract<Req, Rep> {
  parseSubject(c.subject, 'pattern');
  return Object.freeze({ kind: 'rpc', ...c });
}

export function defineEvent<Msg extends z.ZodType>(c: { subject: string; message: Msg }): EventContract<Msg> {
  parseSubject(c.subject, 'pattern');
  return Object.freeze({ kind: 'event', ...c });
}

export type MessageRole = 'request' | 'reply' | 'message';
export type MessageSide = 'sent' | 'received';

/** Parses `value` with `schema` or throws a BusContractError naming subject, role and every bad field. */
export function checkMessage<S extends z.ZodType>(schema: S, value: unknown, subject: string, role: MessageRole, side: MessageSide): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Path and message only: zod issues may carry the input, and a payload may hold secrets.
  const issues = result.error.issues.map((i) => `${[role, ...i.path.map(String)].join('.')}: ${i.message}`);
  const where = side === 'sent' ? 'refused to send' : 'refused an incoming';
  throw new BusContractError(`${where} ${role} on ${subject}: ${issues.join('; ')} — both ends must use the same contract version`, issues);
}
