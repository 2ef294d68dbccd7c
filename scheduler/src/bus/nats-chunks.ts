/**
 * Messages larger than the NATS server's max_payload (1 MiB by default; fn's bodies go up to
 * 6 MB each way) travel in chunks, pulled by the receiver. The sender sends the first chunk in the
 * message itself, with the total size and a private subject; the receiver requests the other chunks
 * from that subject, all at once, and reassembles. Pulling, not pushing, because with queue groups
 * the sender does not know which member received the message. The sender serves the chunks until
 * each has been fetched or its hold time ran out; nothing is stored anywhere.
 *
 *   whole:   u8 1 | frame
 *   chunked: u8 2 | u32 total | u32 chunk size | u16 subject length | subject | first chunk
 *   a chunk request's payload: u32 index; its reply: the chunk's bytes
 */
import { createInbox, type NatsConnection, type Subscription } from 'nats';
import { MessageTooLargeError } from './errors.js';

const WHOLE = 1;
const CHUNKED = 2;
/** Room the chunked message's own header takes (kind, sizes, a subject of up to 255 bytes). */
const HEAD_RESERVE = 512;
/** Nothing fn sends reassembles to more than this (two 6 MB bodies' worth plus headers and env). */
export const MAX_ASSEMBLED_BYTES = 16 * 1024 * 1024;

/** A message that is not a well-formed fn bus message. */
export class ChunkError extends Error {
  override name = 'ChunkError';
}

/** The sender stopped serving its chunks before we had them all (it closed, or the hold ran out). */
export class ChunkFetchError extends ChunkError {
  override name = 'ChunkFetchError';
}

export interface Offer {
  /** What to send as the message's data. */
  head: Uint8Array;
  /** Stops serving the chunks (done by itself once every chunk was fetched, or at holdMs). */
  release(): void;
}

export class Chunker {
  constructor(
    private readonly nc: NatsConnection,
    /** How long a receiver may take to fetch one chunk. */
    private readonly fetchTimeoutMs = 10_000,
  ) {}

  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** True when `frame` fits in one message. */
  fits(frame: Uint8Array): boolean {
    return frame.byteLength + 1 <= this.maxPayload;
  }

  whole(frame: Uint8Array): Uint8Array {
    const out = new Uint8Array(frame.byteLength + 1);
    out[0] = WHOLE;
    out.set(frame, 1);
    return out;
  }

  /** The message to send for `frame`: whole if it fits, else its first chunk, the rest served for up to holdMs. */
  async offer(frame: Uint8Array, holdMs: number, busSubject: string): Promise<Offer> {
    if (this.fits(frame)) return { head: this.whole(frame), release: () => {} };
    if (frame.byteLength > MAX_ASSEMBLED_BYTES) throw new MessageTooLargeError(busSubject, frame.byteLength, MAX_ASSEMBLED_BYTES);
    const chunkSize = this.maxPayload - HEAD_RESERVE;
    const count = Math.ceil(frame.byteLength / chunkSize);
    const subject = createInbox();
    const fetched = new Set<number>();
    let sub: Subscription | undefined;
    let timer: NodeJS.Timeout | undefined;
    const release = (): void => {
      clearTimeout(timer);
      if (sub && !sub.isClosed()) sub.unsubscribe();
    };
    sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err || msg.data.byteLength !== 4) return;
        const index = Buffer.from(msg.data.buffer, msg.data.byteOffset, 4).readUInt32LE(0);
        if (index < 1 || index >= count) return;
        try {
          msg.respond(frame.subarray(index * chunkSize, Math.min(frame.byteLength, (index + 1) * chunkSize)));
        } catch {
          return; // The connection is closing: the receiver times out.
        }
        fetched.add(index);
        if (fetched.size === count - 1) release();
      },
    });
    // The receiver may ask for a chunk as soon as the first one arrives: be listening by then.
    await this.nc.flush();
    timer = setTimeout(release, holdMs);
    timer.unref();
    const subjectBytes = Buffer.from(subject);
    const head = Buffer.allocUnsafe(1 + 4 + 4 + 2 + subjectBytes.length + chunkSize);
    let at = head.writeUInt8(CHUNKED, 0);
    at = head.writeUInt32LE(frame.byteLength, at);
    at = head.writeUInt32LE(chunkSize, at);
    at = head.writeUInt16LE(subjectBytes.length, at);
    at += subjectBytes.copy(head, at);
    head.set(frame.subarray(0, chunkSize), at);
    return { head, release };
  }

  /** The frame a message carries, fetching its other chunks if it came in chunks. */
  async receive(data: Uint8Array): Promise<Uint8Array> {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (buf.length < 1) throw new ChunkError('an empty message is not an fn bus message');
    if (buf[0] === WHOLE) return buf.subarray(1);
    if (buf[0] !== CHUNKED) throw new ChunkError(`message kind ${buf[0]} is not an fn bus message kind: is the sender an fn bus of the same version?`);
    if (buf.length < 11) throw new ChunkError('truncated chunked message');
    const total = buf.readUInt32LE(1);
    const chunkSize = buf.readUInt32LE(5);
    const subjectLength = buf.readUInt16LE(9);
    if (total > MAX_ASSEMBLED_BYTES) throw new ChunkError(`a chunked message of ${total} bytes is over the ${MAX_ASSEMBLED_BYTES}-byte limit of the bus`);
    if (chunkSize < 1 || buf.length !== 11 + subjectLength + chunkSize) throw new ChunkError('malformed chunked message');
    const subject = buf.toString('utf8', 11, 11 + subjectLength);
    const out = new Uint8Array(total);
    out.set(buf.subarray(11 + subjectLength, 11 + subjectLength + Math.min(chunkSize, total)), 0);
    const count = Math.ceil(total / chunkSize);
    const fetches: Promise<void>[] = [];
    for (let index = 1; index < count; index++) {
      const request = Buffer.alloc(4);
      request.writeUInt32LE(index, 0);
      fetches.push(
        this.nc.request(subject, request, { timeout: this.fetchTimeoutMs }).then(
          (msg) => {
            const expected = Math.min(chunkSize, total - index * chunkSize);
            if (msg.data.byteLength !== expected) throw new ChunkError(`chunk ${index} has ${msg.data.byteLength} bytes, expected ${expected}`);
            out.set(msg.data, index * chunkSize);
          },
          (err: unknown) => {
            throw new ChunkFetchError(`could not fetch chunk ${index} of ${count} (${(err as Error).message}): the sender is gone`, { cause: err });
          },
        ),
      );
    }
    await Promise.all(fetches);
    return out;
  }
}
