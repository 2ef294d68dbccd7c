/**
 * The bus inside one process. An InProcessHub is the "server"; each InProcessBus is a connection
 * to it, like a NATS client, so closing one component's bus drops exactly its subscriptions.
 *
 * Delivery is always asynchronous, so code that works here does not depend on timing NATS lacks.
 * By default payloads pass by reference and are not checked against their contracts: gateway,
 * scheduler and worker in one process share one set of TypeScript types, and a 6 MB body should
 * not be copied three times on its way to the VM. With `wire: true` the bus behaves like a wire
 * instead: every delivery gets its own structuredClone (a Buffer arrives as a plain Uint8Array)
 * and every message is checked on both ends, as NATS would — that is what the bus contract suite
 * runs against.
 */
import { ContractBus, type ContractBusOptions } from './contract-bus.js';
import { BusClosedError, BusTimeoutError, NoRespondersError } from './errors.js';
import { parseSubject, within } from './subjects.js';
import type { Inbound, Transport, TransportSubscription } from './transport.js';

interface HubSubscription {
  readonly pattern: string;
  readonly tokens: string[];
  readonly queue: string | undefined;
  deliver(message: Inbound): void;
}

export class InProcessHub {
  private readonly subscriptions = new Set<HubSubscription>();
  /** Round-robin position per queue group: spreads requests evenly and deterministically. */
  private readonly cursors = new Map<string, number>();

  add(sub: HubSubscription): void {
    this.subscriptions.add(sub);
  }

  remove(sub: HubSubscription): void {
    this.subscriptions.delete(sub);
  }

  /**
   * Delivers to every plain subscription that matches and to one member of each matching queue
   * group (NATS's rule). Returns how many received it: 0 means no responders.
   */
  route(subject: string, data: unknown, respond: ((reply: unknown) => void) | undefined, clone: boolean): number {
    const tokens = parseSubject(subject, 'concrete');
    const targets: HubSubscription[] = [];
    const groups = new Map<string, HubSubscription[]>();
    for (const sub of this.subscriptions) {
      if (!within(tokens, sub.tokens)) continue;
      if (sub.queue === undefined) {
        targets.push(sub);
      } else {
        const key = `${sub.pattern} ${sub.queue}`;
        const members = groups.get(key) ?? [];
        members.push(sub);
        groups.set(key, members);
      }
    }
    for (const [key, members] of groups) {
      const n = this.cursors.get(key) ?? 0;
      this.cursors.set(key, n + 1);
      targets.push(members[n % members.length]!);
    }
    for (const sub of targets) {
      // Cloned now, so the sender may reuse its object as soon as the call returns.
      const message: Inbound = { subject, data: clone ? structuredClone(data) : data, ...(respond ? { respond } : {}) };
      queueMicrotask(() => {
        if (this.subscriptions.has(sub)) sub.deliver(message);
      });
    }
    return targets.length;
  }
}

interface Pending {
  fail(err: Error): void;
}

export class InProcessTransport implements Transport {
  private isClosed = false;
  private readonly mine = new Set<HubSubscription>();
  private readonly pending = new Set<Pending>();
  readonly crossesProcess: boolean;

  /** `wire`: clone every payload and have ContractBus check it, as if it crossed a process. */
  constructor(
    readonly hub: InProcessHub,
    options: { wire?: boolean } = {},
  ) {
    this.crossesProcess = options.wire ?? false;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  request(subject: string, data: unknown, timeoutMs: number): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new BusClosedError(`request on ${subject}`));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const entry: Pending = {
        fail: (err) => {
          clearTimeout(timer);
          this.pending.delete(entry);
          reject(err);
        },
      };
      const respond = (reply: unknown): void => {
        if (!this.pending.has(entry)) return; // Already answered, timed out or closed.
        clearTimeout(timer);
        this.pending.delete(entry);
        resolve(this.crossesProcess ? structuredClone(reply) : reply);
      };
      this.pending.add(entry);
      let receivers: number;
      try {
        receivers = this.hub.route(subject, data, respond, this.crossesProcess);
      } catch (err) {
        entry.fail(err instanceof Error ? err : new Error(String(err))); // e.g. a payload structuredClone cannot copy
        return;
      }
      if (receivers === 0) {
        entry.fail(new NoRespondersError(subject));
        return;
      }
      timer = setTimeout(() => entry.fail(new BusTimeoutError(subject, timeoutMs)), timeoutMs);
    });
  }

  async publish(subject: string, data: unknown): Promise<void> {
    if (this.isClosed) throw new BusClosedError(`publish on ${subject}`);
    this.hub.route(subject, data, undefined, this.crossesProcess);
  }

  async subscribe(pattern: string, queue: string | undefined, deliver: (message: Inbound) => void): Promise<TransportSubscription> {
    if (this.isClosed) throw new BusClosedError(`subscribe to ${pattern}`);
    const sub: HubSubscription = {
      pattern,
      tokens: parseSubject(pattern, 'pattern'),
      queue,
      deliver: (message) => {
        // A closed connection can no longer send, so its replies are lost, as on a real wire.
        const respond = message.respond;
        if (!respond) return deliver(message);
        deliver({
          ...message,
          respond: (reply) => {
            if (!this.isClosed) respond(reply);
          },
        });
      },
    };
    this.mine.add(sub);
    this.hub.add(sub);
    return {
      unsubscribe: async () => {
        this.mine.delete(sub);
        this.hub.remove(sub);
      },
    };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const sub of this.mine) this.hub.remove(sub);
    this.mine.clear();
    for (const entry of [...this.pending]) entry.fail(new BusClosedError('request interrupted'));
  }
}

export interface InProcessBusOptions extends ContractBusOptions {
  /** Connect to an existing hub to talk to other buses; by default each bus gets its own. */
  hub?: InProcessHub;
  /** Behave like a wire: clone and check every message (see the header comment). */
  wire?: boolean;
}

export class InProcessBus extends ContractBus {
  readonly hub: InProcessHub;

  constructor(options: InProcessBusOptions = {}) {
    const hub = options.hub ?? new InProcessHub();
    super(new InProcessTransport(hub, { wire: options.wire ?? false }), options);
    this.hub = hub;
  }
}
