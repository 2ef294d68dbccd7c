/**
 * What the gateway needs of a registry, met by both kinds:
 *
 *   Registry         one machine: SQLite; every write is synchronous
 *   SharedRegistry   several gateways: writes go through a JetStream change log first, so they
 *                    return promises (shared/shared-registry.ts); reads are the same local SQLite
 *
 * Callers `await` each write; awaiting a plain value costs one microtask.
 */
import type { EnvStore } from './env.js';
import type { FunctionStore } from './functions.js';
import type { KeyStore } from './keys.js';
import type { LogStore, RetentionReport } from './logs.js';
import type { TenantStore } from './tenants.js';

type Awaitable<T> = T | Promise<T>;
type Writes<S, K extends keyof S> = { [M in K]: S[M] extends (...args: infer A) => infer R ? (...args: A) => Awaitable<R> : never };

export interface RegistryApi {
  readonly tenants: Pick<TenantStore, 'list' | 'get'> & Writes<TenantStore, 'create'>;
  readonly keys: Pick<KeyStore, 'authenticate' | 'list' | 'checkAdminKeyFromEnv'> & Writes<KeyStore, 'create' | 'revoke' | 'ensureAdminKey'>;
  readonly functions: Pick<
    FunctionStore,
    'list' | 'describe' | 'versions' | 'aliases' | 'resolve' | 'resolveForInvocation' | 'referencedSnapshotDigests' | 'referencedBundleDigests'
  > &
    Writes<FunctionStore, 'createVersion' | 'delete' | 'setAlias' | 'deleteAlias' | 'rollback'>;
  readonly env: Pick<EnvStore, 'secretNames' | 'secretsForInvocation' | 'envForInvocation'> &
    Writes<EnvStore, 'setEnv' | 'unsetEnv' | 'setSecret' | 'unsetSecret'>;
  /** Invocation logs stay local to each gateway (they are not replicated). */
  readonly logs: LogStore;
  readonly dataDir: string;
  referencedSnapshotDigests(): Set<string>;
  referencedBundleDigests(): Set<string>;
  runRetention(): RetentionReport;
  close(): void | Promise<void>;
}
