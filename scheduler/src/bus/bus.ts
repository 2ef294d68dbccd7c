/**
 * The bus: the subset of NATS semantics fn needs — request-reply, publish-subscribe, wildcards and
 * queue groups — behind one interface, so the gateway, scheduler and workers never know whether
 * they share a process (InProcessBus) or span machines (NATS). Every message is checked against
 * its contract on both ends.
 */
import type { Contract, EventContract, MessageIn, MessageOut, ReplyIn, ReplyOut, RequestIn, RequestOut } from './contract.js';

export interface RequestOptions {
  /** Required: a request without a deadline could wait forever. */
  timeoutMs: number;
  /** The concrete subject, when the contract's subject has wildcards ('worker.*.invoke'). */
  subject?: string;
}

export interface ServeOptions {
  /** Members of one queue group share the requests: each request goes to exactly one of them. */
  queue?: string;
  /** A narrower subject within the contract's (may keep wildcards). */
  subject?: string;
}

export interface PublishOptions {
  subject?: string;
}

export interface SubscribeOptions {
  queue?: string;
  subject?: string;
  /**
   * Called with what a subscriber cannot throw back to anyone: an incoming message that broke the
   * contract (it is dropped) or an error from the handler. Defaults to the bus's onError.
   */
  onError?: (err: Error) => void;
}

export interface MessageContext {
  /** The concrete subject the message arrived on (useful when serving a wildcard). */
  subject: string;
}

export type RequestHandler<C extends Contract> = (request: RequestOut<C>, ctx: MessageContext) => ReplyIn<C> | Promise<ReplyIn<C>>;
export type EventHandler<E extends EventContract> = (message: MessageOut<E>, ctx: MessageContext) => void | Promise<void>;

export interface Subscription {
  readonly subject: string;
  /** Stops delivery; resolves once the transport has dropped the interest. */
  unsubscribe(): Promise<void>;
}

export interface Bus {
  readonly closed: boolean;
  /** True when messages leave this process (or are made to behave so): see Transport. */
  readonly crossesProcess: boolean;
  /**
   * Sends a request and resolves with the first reply. Rejects with NoRespondersError (nobody
   * serves the subject), BusTimeoutError, BusClosedError, BusContractError (this side refused the
   * request or the reply) or RemoteError (the responder's handler threw, or it refused the request).
   */
  request<C extends Contract>(contract: C, payload: RequestIn<C>, options: RequestOptions): Promise<ReplyOut<C>>;
  /** Resolves once the subscription is active: a request sent afterwards can reach it. */
  serve<C extends Contract>(contract: C, handler: RequestHandler<C>, options?: ServeOptions): Promise<Subscription>;
  /** Fire and forget: no error if nobody listens. */
  publish<E extends EventContract>(contract: E, payload: MessageIn<E>, options?: PublishOptions): Promise<void>;
  subscribe<E extends EventContract>(contract: E, handler: EventHandler<E>, options?: SubscribeOptions): Promise<Subscription>;
  /** Drops every subscription and rejects pending requests with BusClosedError. Idempotent. */
  close(): Promise<void>;
}
