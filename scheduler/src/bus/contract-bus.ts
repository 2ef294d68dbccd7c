/**
 * The Bus over any Transport: subjects resolved against contracts, schemas checked on both ends
 * where messages cross a process boundary (transport.crossesProcess), handler errors turned into
 * wire data and back into RemoteError. Written once, so the in-process and NATS buses behave the
 * same by construction and the contract suite tests this layer for both.
 */
import type { Bus, EventHandler, PublishOptions, RequestHandler, RequestOptions, ServeOptions, SubscribeOptions, Subscription } from './bus.js';
import {
  checkMessage,
  type Contract,
  type EventContract,
  type MessageIn,
  type MessageOut,
  type ReplyOut,
  type RequestIn,
  type RequestOut,
} from './contract.js';
import { BusClosedError, BusContractError } from './errors.js';
import { resolveSubject } from './subjects.js';
import type { Inbound, Transport } from './transport.js';
import { fromWireError, toWireError, WireReplySchema, type WireReply } from './wire.js';

export interface ContractBusOptions {
  /** Where errors nobody else can receive go (bad incoming events, subscriber failures). */
  onError?: (err: Error) => void;
}

const QUEUE_NAME = /^[^\s.*>]+$/;

export class ContractBus implements Bus {
  private readonly onError: (err: Error) => void;

  constructor(
    private readonly transport: Transport,
    options: ContractBusOptions = {},
  ) {
    this.onError = options.onError ?? ((err) => process.emitWarning(err));
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  get crossesProcess(): boolean {
    return this.transport.crossesProcess;
  }

  async request<C extends Contract>(contract: C, payload: RequestIn<C>, options: RequestOptions): Promise<ReplyOut<C>> {
    this.assertOpen(`request on ${options.subject ?? contract.subject}`);
    const subject = resolveSubject(contract.subject, options.subject, 'concrete');
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new RangeError(`request on ${subject}: timeoutMs must be a positive number of milliseconds`);
    }
    const checked = this.transport.crossesProcess;
    const data = checked ? checkMessage(contract.request, payload, subject, 'request', 'sent') : payload;
    const raw = await this.transport.request(subject, data, options.timeoutMs);
    if (!checked) {
      // Our own envelope, from this process: nothing to doubt.
      const reply = raw as WireReply;
      if (!reply.ok) throw fromWireError(subject, reply.error);
      return reply.data as ReplyOut<C>;
    }
    const envelope = WireReplySchema.safeParse(raw);
    if (!envelope.success) {
      throw new BusContractError(`refused an incoming reply on ${subject}: not a reply envelope — is the responder an fn bus?`, []);
    }
    if (!envelope.data.ok) throw fromWireError(subject, envelope.data.error);
    return checkMessage(contract.reply, envelope.data.data, subject, 'reply', 'received') as ReplyOut<C>;
  }

  async serve<C extends Contract>(contract: C, handler: RequestHandler<C>, options: ServeOptions = {}): Promise<Subscription> {
    this.assertOpen(`serve ${options.subject ?? contract.subject}`);
    const subject = resolveSubject(contract.subject, options.subject, 'pattern');
    checkQueue(options.queue);
    const sub = await this.transport.subscribe(subject, options.queue, (message) => {
      void this.answer(contract, handler, message);
    });
    return { subject, unsubscribe: () => sub.unsubscribe() };
  }

  async publish<E extends EventContract>(contract: E, payload: MessageIn<E>, options: PublishOptions = {}): Promise<void> {
    this.assertOpen(`publish on ${options.subject ?? contract.subject}`);
    const subject = resolveSubject(contract.subject, options.subject, 'concrete');
    const data = this.transport.crossesProcess ? checkMessage(contract.message, payload, subject, 'message', 'sent') : payload;
    await this.transport.publish(subject, data);
  }

  async subscribe<E extends EventContract>(contract: E, handler: EventHandler<E>, options: SubscribeOptions = {}): Promise<Subscription> {
    this.assertOpen(`subscribe to ${options.subject ?? contract.subject}`);
    const subject = resolveSubject(contract.subject, options.subject, 'pattern');
    checkQueue(options.queue);
    const onError = options.onError ?? this.onError;
    const sub = await this.transport.subscribe(subject, options.queue, (message) => {
      void (async () => {
        const event = (
          this.transport.crossesProcess ? checkMessage(contract.message, message.data, message.subject, 'message', 'received') : message.data
        ) as MessageOut<E>;
        await handler(event, { subject: message.subject });
      })().catch((err: unknown) => onError(err instanceof Error ? err : new Error(String(err))));
    });
    return { subject, unsubscribe: () => sub.unsubscribe() };
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** Runs the handler for one request and always answers, with a reply or with the error. */
  private async answer<C extends Contract>(contract: C, handler: RequestHandler<C>, message: Inbound): Promise<void> {
    if (!message.respond) {
      this.onError(new BusContractError(`a message on ${message.subject} expected a reply address: publish() was used on a request subject`, []));
      return;
    }
    let reply: WireReply;
    const checked = this.transport.crossesProcess;
    try {
      const request = (checked ? checkMessage(contract.request, message.data, message.subject, 'request', 'received') : message.data) as RequestOut<C>;
      const result = await handler(request, { subject: message.subject });
      reply = { ok: true, data: checked ? checkMessage(contract.reply, result, message.subject, 'reply', 'sent') : result };
    } catch (err) {
      reply = { ok: false, error: toWireError(err) };
    }
    message.respond(reply);
  }

  private assertOpen(what: string): void {
    if (this.transport.closed) throw new BusClosedError(what);
  }
}

function checkQueue(queue: string | undefined): void {
  if (queue !== undefined && !QUEUE_NAME.test(queue)) {
    throw new RangeError(`invalid queue group ${JSON.stringify(queue)}: no whitespace, dots or wildcards`);
  }
}
