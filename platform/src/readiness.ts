/**
 * The checks behind the gateway's /readyz, one per part it needs: the registry answers a query,
 * the snapshot store is there (a directory on one machine, a JetStream Object Store across
 * machines), and a live worker has a base snapshot (worker-reports.ts). Each is cheap: probes come
 * every few seconds. Messages say what to look at, never anything tenant-specific.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckResult, ReadinessChecks } from '@fn/gateway';
import { ADMIN, type RegistryApi } from '@fn/registry';
import type { NatsConnection } from 'nats';
import type { WorkerReports } from './worker-reports.js';

export function registryCheck(registry: RegistryApi): () => CheckResult {
  return () => {
    try {
      // A primary-key lookup of a tenant that cannot exist: it reaches the database and nothing else.
      registry.tenants.get(ADMIN, 'readyz-probe');
    } catch (error) {
      if ((error as Error).name !== 'NotFoundError') return { ok: false, reason: `the registry does not answer: ${(error as Error).message}` };
    }
    return { ok: true };
  };
}

export function storeDirCheck(dir: string): () => CheckResult {
  return () => {
    try {
      // The store makes its directory at its first write: until then, where it will make it.
      accessSync(existsSync(dir) ? dir : dirname(dir), constants.R_OK | constants.W_OK);
      return { ok: true };
    } catch (error) {
      return {
        ok: false,
        reason: `the snapshot store at ${dir} is not readable and writable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      };
    }
  };
}

export function objectStoreCheck(nc: NatsConnection, bucket: string): () => Promise<CheckResult> {
  return async () => {
    try {
      const os = await nc.jetstream().views.os(bucket);
      await os.status();
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `the snapshot object store "${bucket}" on NATS does not answer: ${(error as Error).message}` };
    }
  };
}

export function platformReadiness(registry: RegistryApi, store: () => CheckResult | Promise<CheckResult>, workers: WorkerReports): ReadinessChecks {
  return { registry: registryCheck(registry), snapshots: store, workers: () => workers.readiness() };
}
