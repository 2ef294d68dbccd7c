/**
 * What a transport must provide under ContractBus: move opaque values between subjects, with
 * NATS's matching and queue-group rules. It knows nothing of contracts, schemas or error classes
 * beyond the bus's own (NoResponders, timeout, closed) — those live once, in ContractBus.
 */

export interface Inbound {
  subject: string;
  data: unknown;
  /** Present when the sender waits for a reply. Only the first reply counts; later ones are dropped. */
  respond?: (reply: unknown) => void;
}

export interface TransportSubscription {
  unsubscribe(): Promise<void>;
}

export interface Transport {
  readonly closed: boolean;
  /**
   * True when messages leave this process (NATS), or are made to behave as if they did: then
   * ContractBus checks every message against its contract on both ends. False for the direct
   * in-process bus, where payloads pass by reference, unchecked (their TypeScript types are the
   * contract there, and nothing outside the process can inject one).
   */
  readonly crossesProcess: boolean;
  /**
   * Resolves with the first reply's raw envelope. Rejects with NoRespondersError when no
   * subscription matched, BusTimeoutError, or BusClosedError.
   */
  request(subject: string, data: unknown, timeoutMs: number): Promise<unknown>;
  publish(subject: string, data: unknown): Promise<void>;
  /** Resolves once a message published afterwards can reach `deliver`. */
  subscribe(pattern: string, queue: string | undefined, deliver: (message: Inbound) => void): Promise<TransportSubscription>;
  close(): Promise<void>;
}
