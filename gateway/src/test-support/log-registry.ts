/**
 * What the log sink tests share (log-sink.test.ts, threaded-log-sink.test.ts): a real registry in
 * a temp dir with the tenant acme, made fresh for each test, records of its function api, and what
 * the registry holds of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, Registry, type AppendLogInput, type LogLine } from '@fn/registry';
import { afterEach, beforeEach } from 'vitest';

export interface LogRegistry {
  readonly dir: string;
  readonly registry: Registry;
  /** The invocation ids stored for acme/api, oldest first. */
  stored(): string[];
}

/** Registers the beforeEach/afterEach that open and remove the registry. */
export function useLogRegistry(prefix: string): LogRegistry {
  let dir = '';
  let registry: Registry | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    registry = Registry.open(dir);
    registry.tenants.create(ADMIN, 'acme');
  });
  afterEach(() => {
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get registry() {
      if (!registry) throw new Error('useLogRegistry: the registry exists only inside a test');
      return registry;
    },
    stored() {
      return this.registry.logs.query('acme', 'api', { afterId: 0, limit: 1000 }).records.map((r) => r.invocationId);
    },
  };
}

/** One invocation record of acme/api. */
export function logRecord(invocationId: string, logs: LogLine[] = []): AppendLogInput {
  return { tenant: 'acme', function: 'api', version: 1, invocationId, status: 'ok', durationMs: 1, cold: false, logs };
}
