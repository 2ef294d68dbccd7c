import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { busContractSuite } from './contract-suite.js';
import { defineContract, defineEvent } from './contract.js';
import { InProcessBus, InProcessHub } from './in-process.js';

// The contract suite runs against the bus as it behaves on a wire (NATS): cloned and checked.
busContractSuite('InProcessBus (wire: true)', () => {
  const hub = new InProcessHub();
  return { connect: async () => new InProcessBus({ hub, wire: true }) };
});

describe('InProcessBus, direct (the default: one process)', () => {
  const Echo = defineContract({
    subject: 'echo',
    request: z.object({ n: z.number(), bytes: z.instanceof(Uint8Array) }),
    reply: z.object({ n: z.number(), bytes: z.instanceof(Uint8Array) }),
  });

  it('passes payloads both ways by reference: a body is never copied', async () => {
    const bus = new InProcessBus();
    let received: Uint8Array | undefined;
    const answer = { n: 2, bytes: new Uint8Array(8) };
    await bus.serve(Echo, (req) => ((received = req.bytes), answer));
    const body = new Uint8Array(6 * 1024 * 1024);
    const reply = await bus.request(Echo, { n: 1, bytes: body }, { timeoutMs: 1_000 });
    expect(received).toBe(body);
    expect(reply.bytes).toBe(answer.bytes);
    await bus.close();
  });

  it('checks no message against its contract: the types are the contract inside one process', async () => {
    const bus = new InProcessBus();
    await bus.serve(Echo, (req) => req);
    await expect(bus.request(Echo, { n: 'one' } as never, { timeoutMs: 1_000 })).resolves.toEqual({ n: 'one' });
    await bus.close();
  });

  it('still delivers asynchronously and turns handler errors into RemoteError, like a wire', async () => {
    const bus = new InProcessBus();
    let ran = false;
    await bus.serve(Echo, () => {
      ran = true;
      throw Object.assign(new Error('nope'), { name: 'QuotaError', limit: 3 });
    });
    const pending = bus.request(Echo, { n: 1, bytes: new Uint8Array() }, { timeoutMs: 1_000 });
    expect(ran).toBe(false);
    await expect(pending).rejects.toMatchObject({ name: 'RemoteError', remoteName: 'QuotaError', details: { limit: 3 } });
    await bus.close();
  });
});

describe('InProcessBus', () => {
  const Ping = defineContract({ subject: 'ping', request: z.object({}), reply: z.object({}) });

  it('gives each bus its own hub unless one is shared', async () => {
    const a = new InProcessBus();
    const b = new InProcessBus();
    const c = new InProcessBus({ hub: a.hub });
    await a.serve(Ping, () => ({}));
    await expect(b.request(Ping, {}, { timeoutMs: 1_000 })).rejects.toThrow(/no responders/);
    await expect(c.request(Ping, {}, { timeoutMs: 1_000 })).resolves.toEqual({});
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('does not deliver a message already routed to a subscription that unsubscribed before delivery', async () => {
    const Note = defineEvent({ subject: 'note', message: z.object({}) });
    const bus = new InProcessBus();
    let seen = 0;
    const sub = await bus.subscribe(Note, () => void seen++);
    const published = bus.publish(Note, {});
    const gone = sub.unsubscribe();
    await Promise.all([published, gone]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toBe(0);
    await bus.close();
  });
});
