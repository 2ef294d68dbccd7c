/**
 * The registry: fn's metadata store on one machine, dataDir/fn.db. It groups the stores that share
 * one SQLite connection; each store validates its inputs and enforces tenant isolation itself.
 *
 *   registry.tenants    create / list / get                       (admin creates)
 *   registry.keys       create / authenticate / list / revoke / ensureAdminKey
 *   registry.functions  createVersion / list / describe / delete / versions / aliases / setAlias /
 *                       deleteAlias / rollback / resolve / resolveForInvocation
 *   registry.env        setEnv / unsetEnv / setSecret / unsetSecret / secretNames / secretsForInvocation /
 *                       envForInvocation
 *   registry.logs       append / query / runRetention
 *
 * Several Registry instances, in one process or several, may open the same data directory:
 * SQLite's locking serialises writers, and every read-modify-write runs in an IMMEDIATE
 * transaction. What invocations read (keys, versions, env with secrets) is cached in memory and
 * dropped on any change by any of them (change-watch.ts), so caching never serves a stale answer.
 */
import type Database from 'better-sqlite3';
import { ChangeWatch } from './change-watch.js';
import { openDatabase } from './db.js';
import { EnvStore } from './env.js';
import { FunctionStore } from './functions.js';
import { KeyStore } from './keys.js';
import { LogStore, type RetentionPolicy, type RetentionReport } from './logs.js';
import { migrate, schemaVersion } from './migrations.js';
import { SecretBox } from './secret-box.js';
import { TenantStore } from './tenants.js';

export interface RegistryOptions {
  /** Invocation logs older than this are deleted by retention (default 7 days). */
  logRetentionDays?: number;
  /** At most this many log records are kept per function (default 10,000). */
  maxLogsPerFunction?: number;
  /** How long a write waits for another process's transaction (default 5 s). */
  busyTimeoutMs?: number;
  /** The clock, in ms since the epoch; tests move it to exercise retention. */
  now?: () => number;
  /**
   * Seal secrets with this key file instead of dataDir/secrets.key (which is created on first
   * use); the file must exist. Gateways sharing one registry all need the same key.
   */
  secretKeyFile?: string;
}

export class Registry {
  readonly tenants: TenantStore;
  readonly keys: KeyStore;
  readonly functions: FunctionStore;
  readonly env: EnvStore;
  readonly logs: LogStore;

  private constructor(
    /** @internal For the shared registry (shared/), which replays changes in its own transactions. */
    readonly db: Database.Database,
    readonly dataDir: string,
    /** @internal */
    readonly box: SecretBox,
    now: () => number,
    retention: RetentionPolicy,
  ) {
    // One watch for the caches of every store: any change drops them all (read-cache.ts).
    const watch = new ChangeWatch(db);
    this.tenants = new TenantStore(db, now);
    this.keys = new KeyStore(db, now, watch);
    this.functions = new FunctionStore(db, now, watch);
    this.env = new EnvStore(db, box, now, watch);
    this.logs = new LogStore(db, now, retention);
  }

  /**
   * Opens (creating on first use) dataDir/fn.db, applies pending migrations, and runs log
   * retention once. After a crash this is all that is needed: SQLite recovers the WAL itself.
   */
  static open(dataDir: string, options: RegistryOptions = {}): Registry {
    const now = options.now ?? Date.now;
    const retention: RetentionPolicy = {
      maxAgeDays: positive(options.logRetentionDays ?? 7, 'logRetentionDays'),
      maxPerFunction: Math.floor(positive(options.maxLogsPerFunction ?? 10_000, 'maxLogsPerFunction')),
    };
    const db = openDatabase(dataDir, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
    try {
      migrate(db, undefined, now());
      const registry = new Registry(db, dataDir, options.secretKeyFile ? SecretBox.fromFile(options.secretKeyFile) : SecretBox.open(dataDir), now, retention);
      registry.runRetention();
      return registry;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** Log retention; the caller schedules it (e.g. hourly) in long-running processes. */
  runRetention(): RetentionReport {
    return this.logs.runRetention();
  }

  /** Every snapshot digest a stored version references: the roots for the snapshot store's gc. */
  referencedSnapshotDigests(): Set<string> {
    return this.functions.referencedSnapshotDigests();
  }

  referencedBundleDigests(): Set<string> {
    return this.functions.referencedBundleDigests();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`RegistryOptions.${what} must be a positive number, got ${value}`);
  return value;
}
