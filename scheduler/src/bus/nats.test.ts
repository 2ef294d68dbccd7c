/**
 * The NATS transport against a real nats-server (started here, JetStream on, random port): the
 * same bus contract suite as the in-process bus, then what only a real wire has — bodies over the
 * server's max_payload, versioned subjects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startNatsServer, type TestNatsServer } from '../test-support/nats-server.js';
import { busContractSuite } from './contract-suite.js';
import { defineContract, defineEvent } from './contract.js';
import { BusConnectError, MessageTooLargeError, NoRespondersError } from './errors.js';
import { NatsBus } from './nats.js';
import { encodeFrame } from './frame.js';

let server: TestNatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

// Each test gets its own subject prefix: one server, no test hears another's messages.
let network = 0;
busContractSuite('NatsBus (real nats-server)', () => {
  const subjectPrefix = `test${++network}.v1`;
  return { connect: () => NatsBus.connect(server.url, { subjectPrefix }) };
});

describe('NatsBus on a real nats-server', () => {
  const Blob = defineContract({
    subject: 'blob.put',
    request: z.object({ id: z.string(), body: z.instanceof(Uint8Array) }),
    reply: z.object({ id: z.string(), size: z.number(), body: z.instanceof(Uint8Array) }),
  });
  const SIX_MB = 6 * 1024 * 1024;
  const pattern = (size: number, seed: number) => new Uint8Array(size).map((_, i) => (i * 31 + seed) % 256);

  it('carries 6 MB bodies both ways (over the 1 MiB max_payload: chunked), byte for byte, to queue-group members', async () => {
    const [a, b, client] = await Promise.all([NatsBus.connect(server.url), NatsBus.connect(server.url), NatsBus.connect(server.url)]);
    try {
      expect(a.nc.info!.max_payload).toBeLessThan(SIX_MB);
      const served: string[] = [];
      for (const [bus, name] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        await bus.serve(
          Blob,
          (req) => {
            served.push(name);
            // The reply is the request reversed: proves the server saw every byte in place.
            return { id: req.id, size: req.body.byteLength, body: req.body.slice().reverse() };
          },
          { queue: 'blobs' },
        );
      }
      const bodies = [pattern(SIX_MB, 1), pattern(SIX_MB - 7, 2), pattern(3 * 1024 * 1024 + 1, 3), pattern(10, 4)];
      const replies = await Promise.all(bodies.map((body, i) => client.request(Blob, { id: `r${i}`, body }, { timeoutMs: 30_000 })));
      replies.forEach((reply, i) => {
        expect(reply.id).toBe(`r${i}`);
        expect(reply.size).toBe(bodies[i]!.byteLength);
        expect(Buffer.from(reply.body).equals(Buffer.from(bodies[i]!.slice().reverse()))).toBe(true);
      });
      expect(served).toHaveLength(4);
    } finally {
      await Promise.all([a.close(), b.close(), client.close()]);
    }
  });

  it('refuses a request over the 16 MiB bus limit before sending it, and answers a reply over it with that error', async () => {
    const [responder, client] = await Promise.all([NatsBus.connect(server.url), NatsBus.connect(server.url)]);
    try {
      let calls = 0;
      await responder.serve(Blob, (req) => (calls++, { id: req.id, size: 0, body: new Uint8Array(17 * 1024 * 1024) }));
      await expect(client.request(Blob, { id: 'huge', body: new Uint8Array(17 * 1024 * 1024) }, { timeoutMs: 30_000 })).rejects.toThrow(MessageTooLargeError);
      expect(calls).toBe(0);
      const err = await client.request(Blob, { id: 'small', body: new Uint8Array(1) }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'RemoteError', remoteName: 'MessageTooLargeError' });
      expect(calls).toBe(1);
    } finally {
      await Promise.all([responder.close(), client.close()]);
    }
  });

  it('refuses an event over max_payload with MessageTooLargeError (events are never chunked)', async () => {
    const Big = defineEvent({ subject: 'big.event', message: z.object({ body: z.instanceof(Uint8Array) }) });
    const bus = await NatsBus.connect(server.url);
    try {
      await expect(bus.publish(Big, { body: new Uint8Array(2 * 1024 * 1024) })).rejects.toThrow(MessageTooLargeError);
    } finally {
      await bus.close();
    }
  });

  it('puts every subject under a versioned prefix: another version finds no responders', async () => {
    const Ping = defineContract({ subject: 'ping', request: z.object({}), reply: z.object({ v: z.number() }) });
    const [v1, v2] = await Promise.all([NatsBus.connect(server.url), NatsBus.connect(server.url, { subjectPrefix: 'fn.v2' })]);
    try {
      await v1.serve(Ping, () => ({ v: 1 }));
      await expect(v2.request(Ping, {}, { timeoutMs: 5_000 })).rejects.toThrow(NoRespondersError);
      const raw = await v2.nc.request('fn.v1.ping', new Uint8Array([1, ...encodeFrame({})]), { timeout: 5_000 });
      expect(raw.data.byteLength).toBeGreaterThan(0);
    } finally {
      await Promise.all([v1.close(), v2.close()]);
    }
  });

  it('says what to do when NATS is not there', async () => {
    const err = await NatsBus.connect('nats://127.0.0.1:1', { connection: { reconnect: false, timeout: 2_000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusConnectError);
    expect((err as Error).message).toMatch(/nats-server/);
  });
});
