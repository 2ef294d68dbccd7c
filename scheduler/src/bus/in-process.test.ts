import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { busContractSuite } from './contract-suite.js';
import { defineContract, defineEvent } from './contract.js';
import { InProcessBus, InProcessHub } from './in-process.js';

busContractSuite('InProcessBus', () => {
  const hub = new InProcessHub();
  return { connect: async () => new InProcessBus({ hub }) };
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
