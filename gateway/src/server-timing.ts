/**
 * The Server-Timing header of an invocation: where one request's time went, hop by hop, from the
 * timings every layer adds to the result (@fn/contract's HopTimings, each inclusive of the hops
 * inside it) and the gateway's own. Each entry here is a hop's own share, so they add up to the
 * gateway's total; `bus` is both bus legs (gateway ⇄ scheduler ⇄ worker) together.
 *
 *   server-timing: gateway;dur=0.041, registry;dur=0.012, bus;dur=0.009, scheduler;dur=0.006,
 *                  worker;dur=0.011, ipc;dur=0.102, host;dur=0.020, vm;dur=0.130, guest;dur=0.018
 */
import type { HopTimings } from '@fn/contract';

/** The gateway's own measurements, in ms. */
export interface GatewayTimings {
  /** From the start of the invocation handler to the response it returns. */
  total: number;
  /** Authentication, version and env lookups. */
  registry: number;
  /** The call to the invoker (the scheduler), from the gateway's side. */
  call: number;
}

export const HOPS = ['gateway', 'registry', 'bus', 'scheduler', 'worker', 'restore', 'ipc', 'host', 'vm', 'guest'] as const;
export type Hop = (typeof HOPS)[number];

export function hopDurations(gateway: GatewayTimings, t: HopTimings): Partial<Record<Hop, number>> {
  const own = (outer: number | undefined, ...inner: (number | undefined)[]): number | undefined =>
    outer === undefined
      ? undefined
      : Math.max(
          0,
          inner.reduce<number>((left, x) => left - (x ?? 0), outer),
        );
  const busToScheduler = t.scheduler === undefined ? undefined : Math.max(0, gateway.call - t.scheduler);
  const busToWorker = t.dispatch === undefined || t.worker === undefined ? undefined : Math.max(0, t.dispatch - t.worker);
  return {
    gateway: Math.max(0, gateway.total - gateway.registry - gateway.call),
    registry: gateway.registry,
    bus: busToScheduler === undefined && busToWorker === undefined ? undefined : (busToScheduler ?? 0) + (busToWorker ?? 0),
    scheduler: own(t.scheduler, t.dispatch),
    worker: own(t.worker, t.hostCall, t.restore),
    restore: t.restore,
    ipc: own(t.hostCall, t.host),
    host: own(t.host, t.vm),
    vm: own(t.vm, t.guest),
    guest: t.guest,
  };
}

export function serverTiming(gateway: GatewayTimings, t: HopTimings): string {
  const durations = hopDurations(gateway, t);
  return HOPS.filter((hop) => durations[hop] !== undefined)
    .map((hop) => `${hop};dur=${durations[hop]!.toFixed(3)}`)
    .join(', ');
}

/** The durations back out of a Server-Timing header (for benchmarks and tests). */
export function parseServerTiming(header: string | null): Partial<Record<Hop, number>> {
  const out: Partial<Record<Hop, number>> = {};
  for (const entry of (header ?? '').split(',')) {
    const match = /^\s*([a-z]+);dur=([0-9.]+)\s*$/.exec(entry);
    if (match && (HOPS as readonly string[]).includes(match[1]!)) out[match[1] as Hop] = Number(match[2]);
  }
  return out;
}
