/**
 * The asynchronous-invocation queue across processes, on JetStream (the server's file store):
 *
 *   stream  <PREFIX>_ASYNC        work-queue retention, subject <prefix>.async.jobs: each job is
 *                                 held until a runner acks it. One durable pull consumer `runners`
 *                                 shared by every runner (explicit ack, ack wait 30 s kept alive
 *                                 by working() while an attempt runs): a runner that dies mid-way
 *                                 leaves its job unacked, and JetStream hands it to another.
 *                                 Retries are naks with a delay (the backoff).
 *   stream  <PREFIX>_ASYNC_DEAD   the dead letters (limits retention, kept 7 days)
 *   KV      <prefix>-invocations  one record per invocation, updated by compare-and-set on its
 *                                 revision; kept 24 h (the bucket's TTL) after its last change
 *   objects <prefix>-async-bodies request bodies and result bodies too large for one message
 *                                 (over 512 KiB; NATS's max_payload is 1 MiB by default), 24 h
 *
 * The publish carries the invocation id as Nats-Msg-Id: a gateway that retries a publish after a
 * lost acknowledgement does not queue the job twice.
 */
import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type JetStreamClient,
  type JsMsg,
  type KV,
  type NatsConnection,
  type ObjectStore,
  type StreamConfig,
} from 'nats';
import { newRecord, RECORD_RETENTION_MS, type AsyncJob, type AsyncQueue, type Delivery, type InvocationRecord } from '@fn/gateway';

const INLINE_MAX = 512 * 1024;
const ACK_WAIT_MS = 30_000;
const DEAD_LETTER_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const DURABLE = 'runners';

/** A record as the bucket stores it: a large result body lives in the object store. */
type StoredRecord = InvocationRecord & { resultObject?: string };
type JobHeader = Omit<AsyncJob, 'request'> & { request: Omit<AsyncJob['request'], 'body'>; bodyObject?: string };

export class JetStreamAsyncQueue implements AsyncQueue {
  private closed = false;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly kv: KV,
    private readonly objects: ObjectStore,
    private readonly consumer: Consumer,
    private readonly subjects: { jobs: string; dead: string },
  ) {}

  /** Creates the streams, the consumer, the bucket and the object store if missing. Needs `nats-server -js`. */
  static async open(nc: NatsConnection, prefix: string, options: { ackWaitMs?: number } = {}): Promise<JetStreamAsyncQueue> {
    const jsm = await nc.jetstreamManager();
    const name = prefix.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
    const bucket = prefix.replace(/\./g, '-');
    const subjects = { jobs: `${prefix}.async.jobs`, dead: `${prefix}.async.dead` };
    await ensureStream(nc, {
      name: `${name}_ASYNC`,
      subjects: [subjects.jobs],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(2 * 60_000),
    });
    await ensureStream(nc, {
      name: `${name}_ASYNC_DEAD`,
      subjects: [subjects.dead],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(DEAD_LETTER_RETENTION_MS),
    });
    const existing = await jsm.consumers.info(`${name}_ASYNC`, DURABLE).catch(() => undefined);
    if (!existing)
      await jsm.consumers.add(`${name}_ASYNC`, {
        durable_name: DURABLE,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(options.ackWaitMs ?? ACK_WAIT_MS), // fixed when the consumer is first created
        max_deliver: -1, // the runner counts attempts and dead-letters; JetStream only redelivers
        max_ack_pending: 10_000,
      });
    const js = nc.jetstream();
    const kv = await js.views.kv(`${bucket}-invocations`, { history: 1, ttl: RECORD_RETENTION_MS, storage: StorageType.File });
    const objects = await js.views.os(`${bucket}-async-bodies`, { storage: StorageType.File, ttl: nanos(RECORD_RETENTION_MS) });
    const consumer = await js.consumers.get(`${name}_ASYNC`, DURABLE);
    return new JetStreamAsyncQueue(js, kv, objects, consumer, subjects);
  }

  async enqueue(job: AsyncJob): Promise<void> {
    const record = newRecord(job);
    // The record first: a runner that takes the job at once finds it.
    await this.kv.create(job.id, encodeJson(record));
    try {
      await this.js.publish(this.subjects.jobs, await this.encodeJob(job), { msgID: job.id });
    } catch (error) {
      await this.kv.delete(job.id).catch(() => {});
      throw error;
    }
  }

  async record(id: string): Promise<InvocationRecord | undefined> {
    const entry = await this.kv.get(id);
    if (entry?.operation !== 'PUT') return undefined;
    const { resultObject, ...record } = JSON.parse(entry.string()) as StoredRecord;
    if (resultObject && record.result) {
      const bytes = await this.objects.getBlob(resultObject);
      record.result = { ...record.result, bodyBase64: bytes ? Buffer.from(bytes).toString('utf8') : '' };
    }
    return record;
  }

  async update(id: string, change: (current: InvocationRecord | undefined) => InvocationRecord | undefined): Promise<InvocationRecord | undefined> {
    for (;;) {
      const entry = await this.kv.get(id);
      const live = entry && entry.operation === 'PUT' ? entry : undefined;
      const current = live ? (JSON.parse(live.string()) as StoredRecord) : undefined;
      const next = change(current);
      if (!next) return current;
      const stored: StoredRecord = { ...next };
      if (next.result && next.result.bodyBase64.length > INLINE_MAX) {
        // A name of its own per write: a losing writer's object never replaces the winner's.
        const name = `result-${id}-${randomUUID()}`;
        await this.objects.putBlob({ name }, Buffer.from(next.result.bodyBase64, 'utf8'));
        stored.result = { ...next.result, bodyBase64: '' };
        stored.resultObject = name;
      }
      try {
        if (live) await this.kv.update(id, encodeJson(stored), live.revision);
        else await this.kv.create(id, encodeJson(stored));
        return next;
      } catch (error) {
        if (!isWrongRevision(error)) throw error;
        // Someone else wrote in between: read again and decide again.
      }
    }
  }

  async next(waitMs: number): Promise<Delivery | undefined> {
    if (this.closed) return undefined;
    const msg = await this.consumer.next({ expires: Math.max(1_000, waitMs) });
    if (!msg) return undefined;
    let job: AsyncJob;
    try {
      job = await this.decodeJob(msg.data);
    } catch (error) {
      // Not a job of ours (another build, or its body expired): terminate it instead of looping on it.
      msg.term();
      throw new Error(`dropped an unreadable job on ${msg.subject}: ${(error as Error).message}`, { cause: error });
    }
    return this.delivery(msg, job);
  }

  async deadLetter(job: AsyncJob, record: InvocationRecord): Promise<void> {
    const header: JobHeader & { record: InvocationRecord } = { ...(await this.header(job)), record };
    await this.js.publish(this.subjects.dead, frame(header, header.bodyObject ? new Uint8Array(0) : job.request.body), { msgID: `dead-${job.id}` });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private delivery(msg: JsMsg, job: AsyncJob): Delivery {
    return {
      job,
      attempt: msg.info.redeliveryCount,
      done: async () => {
        await msg.ackAck();
      },
      retry: async (delayMs) => msg.nak(delayMs),
      working: () => msg.working(),
    };
  }

  private async header(job: AsyncJob): Promise<JobHeader> {
    const { body, ...request } = job.request;
    if (body.byteLength <= INLINE_MAX) return { ...job, request };
    const bodyObject = `request-${job.id}`;
    return { ...job, request, bodyObject };
  }

  private async encodeJob(job: AsyncJob): Promise<Uint8Array> {
    const header = await this.header(job);
    if (header.bodyObject) {
      await this.objects.putBlob({ name: header.bodyObject }, job.request.body);
      return frame(header, new Uint8Array(0));
    }
    return frame(header, job.request.body);
  }

  private async decodeJob(data: Uint8Array): Promise<AsyncJob> {
    const { header, body } = unframe<JobHeader>(data);
    const { bodyObject, ...rest } = header;
    let bytes = body;
    if (bodyObject) {
      const stored = await this.objects.getBlob(bodyObject);
      if (!stored) throw new Error(`its body ${bodyObject} is gone from the object store`);
      bytes = stored;
    }
    return { ...rest, request: { ...rest.request, body: bytes } };
  }
}

/** [u32 length of the JSON header][JSON header][raw body bytes]: bodies travel as bytes. */
function frame(header: unknown, body: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(4 + json.byteLength + body.byteLength);
  new DataView(out.buffer).setUint32(0, json.byteLength);
  out.set(json, 4);
  out.set(body, 4 + json.byteLength);
  return out;
}

function unframe<T>(data: Uint8Array): { header: T; body: Uint8Array } {
  if (data.byteLength < 4) throw new Error('too short');
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  if (4 + length > data.byteLength) throw new Error('its header runs past its end');
  const header = JSON.parse(Buffer.from(data.subarray(4, 4 + length)).toString('utf8')) as T;
  return { header, body: data.slice(4 + length) };
}

function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** kv.update/create lost the race (wrong last sequence, or the key exists). */
function isWrongRevision(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; message?: string; code?: string };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(e?.message ?? '');
}

async function ensureStream(nc: NatsConnection, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!/not found/i.test((error as Error).message)) throw error;
    await jsm.streams.add(config);
  }
}
