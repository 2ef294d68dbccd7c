/**
 * The behaviour every Bus must have, as one vitest suite that each implementation runs against
 * itself (in-process now, NATS later). Nothing here may depend on one transport: deliveries are
 * awaited, never assumed synchronous; the only ordering relied on is NATS's (messages from one
 * publisher reach one subscriber in order); and every test talks between separate connections.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Bus } from './bus.js';
import { defineContract, defineEvent } from './contract.js';
import { BusClosedError, BusContractError, BusTimeoutError, InvalidSubjectError, NoRespondersError, RemoteError } from './errors.js';

/** One isolated medium per test: connect() returns a new connection to it, like a NATS client. */
export interface BusTestNetwork {
  connect(): Promise<Bus>;
  teardown?(): Promise<void>;
}

const Echo = defineContract({
  subject: 'test.echo',
  request: z.object({ text: z.string(), bytes: z.instanceof(Uint8Array).optional() }),
  reply: z.object({ text: z.string(), bytes: z.instanceof(Uint8Array).optional() }),
});
/** The same subject as another build might define it: lets a test put a malformed message on the wire. */
const LooseEcho = defineContract({ subject: 'test.echo', request: z.any(), reply: z.any() });
const Work = defineContract({
  subject: 'test.work.*',
  request: z.object({ n: z.number().int() }),
  reply: z.object({ n: z.number().int(), member: z.string() }),
});
const Note = defineEvent({ subject: 'test.note.>', message: z.object({ seq: z.number().int() }) });
const LooseNote = defineEvent({ subject: 'test.note.>', message: z.any() });

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** Waits for a condition that depends on deliveries; the bound only stops a broken bus hanging the run. */
async function waitFor(condition: () => boolean, what: string, boundMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > boundMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Retries an assertion that becomes true once the transport has processed an earlier step. */
async function eventually(assertion: () => Promise<void>, boundMs = 5_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      if (Date.now() - start > boundMs) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Gives late, wrong deliveries (duplicates) a chance to show up before counting. */
const settle = () => new Promise((r) => setTimeout(r, 50));

export function busContractSuite(name: string, setup: () => Promise<BusTestNetwork> | BusTestNetwork): void {
  describe(`bus contract: ${name}`, () => {
    let network: BusTestNetwork;
    let opened: Bus[];
    const connect = async (): Promise<Bus> => {
      const bus = await network.connect();
      opened.push(bus);
      return bus;
    };

    beforeEach(async () => {
      network = await setup();
      opened = [];
    });
    afterEach(async () => {
      await Promise.all(opened.map((b) => b.close()));
      await network.teardown?.();
    });

    describe('request-reply', () => {
      it('delivers a request to the handler serving its subject and returns the reply', async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(Echo, (req) => ({ text: req.text.toUpperCase() }));
        expect(await client.request(Echo, { text: 'hi' }, { timeoutMs: 5_000 })).toEqual({ text: 'HI' });
      });

      it('copies payloads both ways, and bytes arrive as a Uint8Array with the same content', async () => {
        const [server, client] = [await connect(), await connect()];
        const kept: Uint8Array[] = [];
        await server.serve(Echo, (req) => {
          req.bytes![0] = 0x42; // Scribbles on what arrived: must not reach the sender's buffer.
          const bytes = new Uint8Array([1, 2, 3]);
          kept.push(bytes);
          return { text: 'reply', bytes };
        });
        const payload = { text: 'mine', bytes: Buffer.from('body') };
        const reply = await client.request(Echo, payload, { timeoutMs: 5_000 });
        kept[0]![0] = 9; // The server reusing its buffer after replying must not change the reply.
        expect(Buffer.from(payload.bytes).toString()).toBe('body');
        expect(reply.bytes).toBeInstanceOf(Uint8Array);
        expect([...reply.bytes!]).toEqual([1, 2, 3]);
      });

      it('serves a wildcard subject and tells the handler the concrete subject', async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(Work, (req, ctx) => ({ n: req.n, member: ctx.subject }));
        const reply = await client.request(Work, { n: 1 }, { subject: 'test.work.w7', timeoutMs: 5_000 });
        expect(reply).toEqual({ n: 1, member: 'test.work.w7' });
      });

      it('refuses to send to a wildcard or to a subject outside the contract', async () => {
        const client = await connect();
        await expect(client.request(Work, { n: 1 }, { timeoutMs: 1_000 })).rejects.toThrow(InvalidSubjectError);
        await expect(client.request(Work, { n: 1 }, { subject: 'test.work.*', timeoutMs: 1_000 })).rejects.toThrow(InvalidSubjectError);
        await expect(client.request(Work, { n: 1 }, { subject: 'test.other.w1', timeoutMs: 1_000 })).rejects.toThrow(/outside/);
      });
    });

    describe('queue groups', () => {
      it('gives each request to exactly one member and spreads requests over the members', async () => {
        const [a, b, client] = [await connect(), await connect(), await connect()];
        const handled: string[] = [];
        for (const [bus, member] of [
          [a, 'a'],
          [b, 'b'],
        ] as const) {
          await bus.serve(
            Work,
            (req) => {
              handled.push(`${member}:${req.n}`);
              return { n: req.n, member };
            },
            { queue: 'workers' },
          );
        }
        const ns = Array.from({ length: 40 }, (_, i) => i);
        const replies = await Promise.all(ns.map((n) => client.request(Work, { n }, { subject: 'test.work.x', timeoutMs: 5_000 })));
        expect(replies.map((r) => r.n)).toEqual(ns);
        expect(handled).toHaveLength(40);
        expect(new Set(handled.map((h) => h.split(':')[1])).size).toBe(40);
        expect(new Set(handled.map((h) => h.split(':')[0]))).toEqual(new Set(['a', 'b']));
      });

      it('delivers an event to every plain subscriber and to one member of each queue group', async () => {
        const [p1, p2, q1, q2, publisher] = [await connect(), await connect(), await connect(), await connect(), await connect()];
        const plain: number[][] = [[], []];
        const group: number[] = [];
        await p1.subscribe(Note, (m) => void plain[0]!.push(m.seq));
        await p2.subscribe(Note, (m) => void plain[1]!.push(m.seq));
        await q1.subscribe(Note, (m) => void group.push(m.seq), { queue: 'g' });
        await q2.subscribe(Note, (m) => void group.push(m.seq), { queue: 'g' });
        for (let seq = 0; seq < 10; seq++) await publisher.publish(Note, { seq }, { subject: 'test.note.x' });
        await waitFor(() => plain[0]!.length === 10 && plain[1]!.length === 10 && group.length >= 10, 'all deliveries');
        await settle();
        expect(plain[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(plain[1]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect([...group].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      });
    });

    describe('wildcards', () => {
      it("matches '*' to exactly one token and a final '>' to one or more", async () => {
        const [subscriber, publisher] = [await connect(), await connect()];
        const star: number[] = [];
        const rest: number[] = [];
        const exact: number[] = [];
        await subscriber.subscribe(Note, (m) => void star.push(m.seq), { subject: 'test.note.*' });
        await subscriber.subscribe(Note, (m) => void rest.push(m.seq));
        await subscriber.subscribe(Note, (m) => void exact.push(m.seq), { subject: 'test.note.a.b' });
        await publisher.publish(Note, { seq: 1 }, { subject: 'test.note.a' });
        await publisher.publish(Note, { seq: 2 }, { subject: 'test.note.a.b' });
        await publisher.publish(Note, { seq: 3 }, { subject: 'test.note.a.b.c' });
        await publisher.publish(Note, { seq: 4 }, { subject: 'test.note.z' });
        await waitFor(() => star.includes(4) && rest.includes(4) && exact.length > 0, 'the last message');
        expect(star).toEqual([1, 4]);
        expect(rest).toEqual([1, 2, 3, 4]);
        expect(exact).toEqual([2]);
      });
    });

    describe('timeouts and no responders', () => {
      it('fails a request nobody answers in time with BusTimeoutError', async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(Echo, () => never());
        const err = await client.request(Echo, { text: 'x' }, { timeoutMs: 30 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BusTimeoutError);
        expect(err).toMatchObject({ subject: 'test.echo', timeoutMs: 30 });
      });

      it('drops a reply that arrives after the timeout, and keeps working', async () => {
        const [server, client] = [await connect(), await connect()];
        let release!: () => void;
        let lateReplySent!: () => void;
        const replied = new Promise<void>((r) => (lateReplySent = r));
        let calls = 0;
        await server.serve(Echo, async (req) => {
          if (calls++ === 0) {
            await new Promise<void>((r) => (release = r));
            setTimeout(lateReplySent, 10);
            return { text: 'late' };
          }
          return { text: req.text };
        });
        await expect(client.request(Echo, { text: 'first' }, { timeoutMs: 30 })).rejects.toThrow(BusTimeoutError);
        release();
        await replied;
        expect(await client.request(Echo, { text: 'second' }, { timeoutMs: 5_000 })).toEqual({ text: 'second' });
      });

      it('fails at once with NoRespondersError when nobody serves the subject', async () => {
        const client = await connect();
        // A long timeout: the error must come from "nobody is there", not from waiting it out.
        await expect(client.request(Echo, { text: 'x' }, { timeoutMs: 600_000 })).rejects.toThrow(NoRespondersError);
      });

      it('stops delivering after unsubscribe', async () => {
        const [server, client] = [await connect(), await connect()];
        const sub = await server.serve(Echo, (req) => req);
        const seen: number[] = [];
        const events = await server.subscribe(Note, (m) => void seen.push(m.seq));
        await client.publish(Note, { seq: 1 }, { subject: 'test.note.a' });
        await waitFor(() => seen.length === 1, 'the first event');
        await sub.unsubscribe();
        await events.unsubscribe();
        await eventually(() => expect(client.request(Echo, { text: 'x' }, { timeoutMs: 600_000 })).rejects.toThrow(NoRespondersError));
        await client.publish(Note, { seq: 2 }, { subject: 'test.note.a' });
        await settle();
        expect(seen).toEqual([1]);
      });

      it('does not fail a publish nobody listens to', async () => {
        const publisher = await connect();
        await expect(publisher.publish(Note, { seq: 1 }, { subject: 'test.note.nobody' })).resolves.toBeUndefined();
      });
    });

    describe('contracts are enforced on both ends', () => {
      it('refuses to send a malformed request, naming the field', async () => {
        const [server, client] = [await connect(), await connect()];
        let calls = 0;
        await server.serve(Echo, (req) => (calls++, req));
        const err = await client.request(Echo, { text: 42 } as never, { timeoutMs: 5_000 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BusContractError);
        expect((err as BusContractError).message).toMatch(/request\.text/);
        expect(calls).toBe(0);
      });

      it('refuses a malformed request where it arrives: the handler never runs, the sender learns why', async () => {
        const [server, peer] = [await connect(), await connect()];
        let calls = 0;
        await server.serve(Echo, (req) => (calls++, req));
        const err = await peer.request(LooseEcho, { text: 42 }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RemoteError);
        expect(err).toMatchObject({ remoteName: 'BusContractError', code: 'contract' });
        expect((err as RemoteError).message).toMatch(/request\.text/);
        expect(calls).toBe(0);
      });

      it('refuses to send a malformed reply: the requester gets a BusContractError from the responder', async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(Echo, () => ({ text: 7 }) as never);
        const err = await client.request(Echo, { text: 'x' }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RemoteError);
        expect(err).toMatchObject({ remoteName: 'BusContractError' });
        expect((err as RemoteError).message).toMatch(/reply\.text/);
      });

      it('refuses a malformed reply where it arrives', async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(LooseEcho, () => ({ text: ['not', 'a', 'string'] }));
        const err = await client.request(Echo, { text: 'x' }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BusContractError);
        expect((err as BusContractError).message).toMatch(/reply\.text/);
      });

      it('refuses malformed events on both ends; the subscriber drops them, reports them, and goes on', async () => {
        const [subscriber, publisher] = [await connect(), await connect()];
        const seen: number[] = [];
        const errors: Error[] = [];
        await subscriber.subscribe(Note, (m) => void seen.push(m.seq), { onError: (e) => errors.push(e) });
        await expect(publisher.publish(Note, { seq: 'one' } as never, { subject: 'test.note.a' })).rejects.toThrow(BusContractError);
        await publisher.publish(LooseNote, { seq: 'one' }, { subject: 'test.note.a' });
        await publisher.publish(Note, { seq: 2 }, { subject: 'test.note.a' });
        await waitFor(() => seen.length === 1, 'the valid event');
        expect(seen).toEqual([2]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(BusContractError);
        expect(errors[0]!.message).toMatch(/message\.seq/);
      });
    });

    describe('handler errors', () => {
      class QuotaError extends Error {
        override name = 'QuotaError';
        readonly code = 'quota';
        constructor(readonly limit: number) {
          super(`over quota of ${limit}`);
        }
      }

      it('reach the requester as RemoteError with name, message, code and plain details, but no stack', async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(Echo, () => {
          throw new QuotaError(7);
        });
        const err = await client.request(Echo, { text: 'x' }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RemoteError);
        expect(err).toMatchObject({ remoteName: 'QuotaError', message: 'over quota of 7', code: 'quota', subject: 'test.echo' });
        expect((err as RemoteError).details).toEqual({ limit: 7 });
        expect((err as RemoteError).stack).not.toMatch(/QuotaError/);
      });

      it('turn a thrown non-Error into a RemoteError too', async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(Echo, async () => {
          throw 'plain string';
        });
        await expect(client.request(Echo, { text: 'x' }, { timeoutMs: 5_000 })).rejects.toMatchObject({
          name: 'RemoteError',
          remoteName: 'Error',
          message: 'plain string',
        });
      });

      it('from a subscriber go to onError and do not end the subscription', async () => {
        const [subscriber, publisher] = [await connect(), await connect()];
        const errors: Error[] = [];
        const seen: number[] = [];
        await subscriber.subscribe(
          Note,
          (m) => {
            if (m.seq === 1) throw new Error('bad first');
            seen.push(m.seq);
          },
          { onError: (e) => errors.push(e) },
        );
        await publisher.publish(Note, { seq: 1 }, { subject: 'test.note.a' });
        await publisher.publish(Note, { seq: 2 }, { subject: 'test.note.a' });
        await waitFor(() => seen.length === 1, 'the second event');
        expect(errors.map((e) => e.message)).toEqual(['bad first']);
      });
    });

    describe('close', () => {
      it('makes every later operation fail with BusClosedError, and may be called again', async () => {
        const bus = await connect();
        await bus.close();
        await bus.close();
        expect(bus.closed).toBe(true);
        await expect(bus.request(Echo, { text: 'x' }, { timeoutMs: 1_000 })).rejects.toThrow(BusClosedError);
        await expect(bus.serve(Echo, (r) => r)).rejects.toThrow(BusClosedError);
        await expect(bus.publish(Note, { seq: 1 }, { subject: 'test.note.a' })).rejects.toThrow(BusClosedError);
        await expect(bus.subscribe(Note, () => {})).rejects.toThrow(BusClosedError);
        // Closed comes first: a malformed payload on a closed bus is still a closed-bus error.
        await expect(bus.request(Echo, { text: 42 } as never, { timeoutMs: 1_000 })).rejects.toThrow(BusClosedError);
      });

      it('rejects a request still waiting for its reply with BusClosedError', async () => {
        const [server, client] = [await connect(), await connect()];
        let arrived = false;
        await server.serve(Echo, () => ((arrived = true), never()));
        const pending = client.request(Echo, { text: 'x' }, { timeoutMs: 600_000 });
        await waitFor(() => arrived, 'the request to arrive');
        await client.close();
        await expect(pending).rejects.toThrow(BusClosedError);
      });

      it("drops a closed connection's subscriptions: others then find no responders", async () => {
        const [server, client] = [await connect(), await connect()];
        await server.serve(Echo, (req) => req);
        expect(await client.request(Echo, { text: 'x' }, { timeoutMs: 5_000 })).toEqual({ text: 'x' });
        await server.close();
        await eventually(() => expect(client.request(Echo, { text: 'x' }, { timeoutMs: 600_000 })).rejects.toThrow(NoRespondersError));
      });

      it('loses the reply of a handler whose connection closed meanwhile', async () => {
        const [server, client] = [await connect(), await connect()];
        let finish!: () => void;
        let arrived = false;
        await server.serve(Echo, async (req) => {
          arrived = true;
          await new Promise<void>((r) => (finish = r));
          return req;
        });
        const pending = client.request(Echo, { text: 'x' }, { timeoutMs: 200 });
        await waitFor(() => arrived, 'the request to arrive');
        await server.close();
        finish();
        await expect(pending).rejects.toThrow(BusTimeoutError);
      });
    });
  });
}
