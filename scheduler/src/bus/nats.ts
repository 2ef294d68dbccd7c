/**
 * The bus over NATS (nats.js v2), for gateway, scheduler and workers in separate processes or on
 * separate machines. ContractBus above it is the same as in one process, so every message is
 * checked against its contract where it enters (crossesProcess = true).
 *
 * - Subjects are versioned: bus subject `scheduler.invoke` is NATS subject `fn.v1.scheduler.invoke`
 *   (the prefix is an option; a new incompatible wire format gets a new version, so old and new
 *   processes on one NATS do not misread each other, they find no responders).
 * - Request-reply is NATS's own (a muxed inbox); queue groups are NATS queue groups.
 * - Values travel as frames (frame.ts): JSON for the tree, raw bytes for every Uint8Array.
 * - A request or reply over the server's max_payload travels in chunks (nats-chunks.ts).
 * - nats.js reconnects by itself after a server restart and re-creates the subscriptions.
 */
import { connect, ErrorCode, NatsError, type ConnectionOptions, type Msg, type NatsConnection, type Subscription } from 'nats';
import { ContractBus, type ContractBusOptions } from './contract-bus.js';
import { BusClosedError, BusConnectError, BusContractError, BusTimeoutError, MessageTooLargeError, NoRespondersError } from './errors.js';
import { decodeFrame, encodeFrame, FrameError } from './frame.js';
import { ChunkError, ChunkFetchError, Chunker } from './nats-chunks.js';
import { connectAdvice } from './nats-connect-advice.js';
import type { Inbound, Transport, TransportSubscription } from './transport.js';
import { toWireError, type WireReply } from './wire.js';

export const DEFAULT_SUBJECT_PREFIX = 'fn.v1';
/** How long a responder keeps a chunked reply for the requester to fetch. */
const REPLY_HOLD_MS = 30_000;

export interface NatsTransportOptions {
  /** Put in front of every bus subject (default fn.v1). Separates fn versions and installations on one NATS. */
  subjectPrefix?: string;
}

export class NatsTransport implements Transport {
  readonly crossesProcess = true;
  private isClosed = false;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly prefix: string;
  private readonly chunker: Chunker;

  constructor(
    readonly nc: NatsConnection,
    options: NatsTransportOptions = {},
  ) {
    this.prefix = `${options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX}.`;
    this.chunker = new Chunker(nc);
  }

  get closed(): boolean {
    return this.isClosed || this.nc.isClosed();
  }

  request(subject: string, data: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new BusClosedError(`request on ${subject}`));
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(fail);
        fn();
      };
      const fail = (err: Error): void => settle(() => reject(err));
      this.pending.add(fail);
      // One deadline for the whole exchange, chunk transfers included.
      const timer = setTimeout(() => fail(new BusTimeoutError(subject, timeoutMs)), timeoutMs);
      void (async () => {
        const offer = await this.chunker.offer(encodeFrame(data), timeoutMs, subject);
        try {
          // nats.js's own timeout is a backstop only: ours above decides.
          const msg = await this.nc.request(this.wire(subject), offer.head, { timeout: timeoutMs + 1_000 });
          const reply = decodeFrame(await this.chunker.receive(msg.data));
          settle(() => resolve(reply));
        } finally {
          offer.release();
        }
      })().catch((err: unknown) => fail(this.busError(err, subject, timeoutMs)));
    });
  }

  async publish(subject: string, data: unknown): Promise<void> {
    if (this.closed) throw new BusClosedError(`publish on ${subject}`);
    const frame = encodeFrame(data);
    if (!this.chunker.fits(frame)) throw new MessageTooLargeError(subject, frame.byteLength + 1, this.chunker.maxPayload);
    try {
      this.nc.publish(this.wire(subject), this.chunker.whole(frame));
    } catch (err) {
      throw this.busError(err, subject, 0);
    }
  }

  async subscribe(pattern: string, queue: string | undefined, deliver: (message: Inbound) => void): Promise<TransportSubscription> {
    if (this.closed) throw new BusClosedError(`subscribe to ${pattern}`);
    const sub = this.nc.subscribe(this.wire(pattern), {
      ...(queue !== undefined ? { queue } : {}),
      callback: (err, msg) => {
        if (!err) void this.inbound(msg, deliver);
      },
    });
    this.subscriptions.add(sub);
    // Once the server has answered a PING sent after the SUB, it routes to us.
    await this.nc.flush();
    return {
      unsubscribe: async () => {
        this.subscriptions.delete(sub);
        if (sub.isClosed()) return;
        sub.unsubscribe();
        if (!this.closed) await this.nc.flush();
      },
    };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    if (!this.nc.isClosed()) {
      // Unsubscribed and flushed before the socket closes: once close() resolves, the server routes
      // nothing more to us (it may notice a closed socket only later), so others see no responders.
      for (const sub of this.subscriptions) sub.unsubscribe();
      this.subscriptions.clear();
      await this.nc.flush().catch(() => {});
      await this.nc.close();
    }
    // Last, as close() resolves: requests still waiting now never get their reply.
    for (const fail of [...this.pending]) fail(new BusClosedError('request interrupted'));
  }

  private async inbound(msg: Msg, deliver: (message: Inbound) => void): Promise<void> {
    const subject = msg.subject.startsWith(this.prefix) ? msg.subject.slice(this.prefix.length) : msg.subject;
    let data: unknown;
    try {
      data = decodeFrame(await this.chunker.receive(msg.data));
    } catch (err) {
      // Not ours, or its sender went away mid-transfer: a requester learns why, an event is dropped.
      if (msg.reply)
        this.reply(msg, {
          ok: false,
          error: { name: 'BusContractError', message: `refused an incoming request on ${subject}: ${(err as Error).message}`, code: 'contract', details: {} },
        });
      return;
    }
    deliver({ subject, data, ...(msg.reply ? { respond: (reply: unknown) => this.reply(msg, reply) } : {}) });
  }

  /** Sends a reply (chunked if large). A closed connection cannot send: the reply is lost, as it must be. */
  private reply(msg: Msg, reply: unknown): void {
    if (this.closed) return;
    const subject = msg.subject.slice(this.prefix.length);
    const send = async (value: unknown): Promise<void> => {
      const offer = await this.chunker.offer(encodeFrame(value), REPLY_HOLD_MS, subject);
      if (!this.closed) msg.respond(offer.head);
    };
    // A reply that cannot go (over the bus's size limit) goes as that error instead: never silence.
    const failed: WireReply = { ok: false, error: { name: 'Error', message: 'the reply could not be sent', details: {} } };
    send(reply).catch((err: unknown) => send({ ...failed, error: toWireError(err) }).catch(() => {}));
  }

  private wire(subject: string): string {
    return this.prefix + subject;
  }

  private busError(err: unknown, subject: string, timeoutMs: number): Error {
    // We closed the connection: whatever nats.js says about the interrupted request, that is why.
    if (this.isClosed) return new BusClosedError('request interrupted', { cause: err });
    // The reply's chunks were lost in transit: the responder ran, as after a timeout (never "no responders").
    if (err instanceof ChunkFetchError) return new BusTimeoutError(subject, timeoutMs, { cause: err });
    if (err instanceof FrameError || err instanceof ChunkError)
      return new BusContractError(`refused an incoming reply on ${subject}: ${err.message}`, [], { cause: err });
    if (err instanceof NatsError) {
      if (err.code === ErrorCode.NoResponders) return new NoRespondersError(subject, { cause: err });
      if (err.code === ErrorCode.Timeout) return new BusTimeoutError(subject, timeoutMs, { cause: err });
      if (err.code === ErrorCode.ConnectionClosed || err.code === ErrorCode.ConnectionDraining)
        return new BusClosedError(`request on ${subject}`, { cause: err });
    }
    if (this.closed) return new BusClosedError(`request on ${subject}`, { cause: err });
    return err instanceof Error ? err : new Error(String(err));
  }
}

export interface NatsBusOptions extends ContractBusOptions, NatsTransportOptions {
  /** Shown in the server's connection list (nats-server's monitoring, `nats server report connections`). */
  name?: string;
  /** Other nats.js connection options (credentials, TLS, reconnect policy). */
  connection?: Omit<ConnectionOptions, 'servers' | 'name'>;
}

/** A Bus on one NATS connection, which it owns: close() closes the connection. */
export class NatsBus extends ContractBus {
  private constructor(
    readonly nc: NatsConnection,
    options: NatsBusOptions,
  ) {
    super(new NatsTransport(nc, options), options);
  }

  /** Connects to NATS (`servers`: nats://host:4222, or several, comma-separated). */
  static async connect(servers: string, options: NatsBusOptions = {}): Promise<NatsBus> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: servers.split(',').map((s) => s.trim()),
        ...(options.name ? { name: options.name } : {}),
        // A long-running role outlives a restart of nats-server: keep reconnecting (every 2 s) until it is back.
        maxReconnectAttempts: -1,
        ...options.connection,
      });
    } catch (err) {
      throw new BusConnectError(`could not connect to NATS at ${servers} (${(err as Error).message}) — ${connectAdvice(err)}`, {
        cause: err,
      });
    }
    return new NatsBus(nc, options);
  }
}
