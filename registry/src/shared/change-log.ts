/**
 * The shared registry's change log: one JetStream stream (file storage) holding every registry
 * write in the order all gateways apply it. Record 1 is the genesis (the registry's id, the
 * record format, the secrets key's fingerprint); every later record is one change.
 *
 * Appends carry `expect.lastSequence`: the server stores a change only if the stream still ends
 * where the writer's replica ends, so two gateways writing at once are serialised (one is told
 * "wrong last sequence", catches up and tries again) instead of one overwriting the other.
 */
import {
  DeliverPolicy,
  Events,
  NatsError,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';

/** JetStream's error code for a failed `expect.lastSequence`. */
const WRONG_LAST_SEQUENCE = 10071;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ChangeLogUnavailableError extends Error {
  override name = 'ChangeLogUnavailableError';
  /** The gateway answers 503 (@fn/contract's failure kind): try again once NATS is back. */
  readonly kind = 'unavailable';
}

export class WrongLastSequenceError extends Error {
  override name = 'WrongLastSequenceError';
}

export interface LoggedRecord {
  seq: number;
  record: unknown;
}

export class ChangeLog {
  private tail: ConsumerMessages | undefined;
  /** False between a disconnect and the reconnect: appends fail at once then, not after a timeout. */
  private connected = true;

  private constructor(
    nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly subject: string,
    private readonly timeoutMs: number,
  ) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === Events.Disconnect) this.connected = false;
        else if (status.type === Events.Reconnect) this.connected = true;
      }
    })().catch(() => {});
  }

  /** Opens (creating if needed) the stream `<prefix>-registry` on subject `<prefix>.registry.changes`. */
  static async open(nc: NatsConnection, subjectPrefix: string, timeoutMs = 5_000): Promise<ChangeLog> {
    const stream = `${subjectPrefix.replace(/\./g, '-')}-registry`;
    const subject = `${subjectPrefix}.registry.changes`;
    try {
      const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
      try {
        await jsm.streams.info(stream);
      } catch (error) {
        if (!(error instanceof NatsError && error.api_error?.err_code === 10059)) throw error; // 10059: stream not found
        await jsm.streams.add({
          name: stream,
          subjects: [subject],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          description: "fn: the shared registry's change log (every gateway replays it into its SQLite)",
        });
      }
      return new ChangeLog(nc, nc.jetstream({ timeout: timeoutMs }), jsm, stream, subject, timeoutMs);
    } catch (error) {
      throw new ChangeLogUnavailableError(
        `could not open the registry stream "${stream}" on NATS (${(error as Error).message}) — is JetStream enabled (nats-server -js)?`,
        { cause: error },
      );
    }
  }

  /** The sequence of the stream's last record (0: empty). */
  async lastSeq(): Promise<number> {
    try {
      return (await this.jsm.streams.info(this.stream)).state.last_seq;
    } catch (error) {
      throw this.unavailable('read the end of', error);
    }
  }

  /** One record by sequence, or undefined if there is none. */
  async read(seq: number): Promise<unknown> {
    try {
      const msg = await this.jsm.streams.getMessage(this.stream, { seq });
      return JSON.parse(decoder.decode(msg.data));
    } catch (error) {
      if (error instanceof NatsError && error.api_error?.err_code === 10037) return undefined; // 10037: no message found
      throw this.unavailable('read', error);
    }
  }

  /** Appends a record if the stream ends at `afterSeq`; its sequence. WrongLastSequenceError if not. */
  async append(record: unknown, afterSeq: number, msgID: string): Promise<number> {
    if (!this.connected) throw this.unavailable('append to', new Error('disconnected from NATS, reconnecting'));
    try {
      const ack = await this.js.publish(this.subject, encoder.encode(JSON.stringify(record)), {
        msgID,
        expect: { lastSequence: afterSeq },
        timeout: this.timeoutMs,
      });
      return ack.seq;
    } catch (error) {
      if (error instanceof NatsError && error.api_error?.err_code === WRONG_LAST_SEQUENCE)
        throw new WrongLastSequenceError(`the registry stream moved past ${afterSeq}`, { cause: error });
      const failed = this.unavailable('append to', error);
      // A lost acknowledgement does not mean a lost change: say so, so nobody repeats a deploy blindly.
      failed.message += ' (if the change reached the server before the failure it is applied anyway: look before repeating it)';
      throw failed;
    }
  }

  /**
   * Delivers every record from `fromSeq` on, in order, now and as they are appended (an ordered
   * consumer: it recreates itself after a nats-server restart and resumes where it was).
   */
  async follow(fromSeq: number, deliver: (logged: LoggedRecord) => void): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq });
    this.tail = await consumer.consume({
      callback: (msg) => {
        let record: unknown;
        try {
          record = JSON.parse(decoder.decode(msg.data));
        } catch {
          record = undefined;
        }
        deliver({ seq: msg.seq, record });
      },
    });
  }

  stop(): void {
    this.tail?.stop();
    this.tail = undefined;
  }

  private unavailable(what: string, error: unknown): ChangeLogUnavailableError {
    return new ChangeLogUnavailableError(
      `could not ${what} the registry stream "${this.stream}" on NATS (${(error as Error).message}): registry changes need NATS — try again once it is reachable`,
      { cause: error },
    );
  }
}
