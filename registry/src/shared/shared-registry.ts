/**
 * One registry shared by any number of gateways: a replicated state machine over a JetStream
 * stream (change-log.ts). Each gateway keeps its own SQLite copy (the Registry, with its prepared
 * statements and in-memory caches) and applies the stream's changes to it in order; the stream,
 * on the NATS server's file store, is the registry of record.
 *
 *   a write   dry-run on the local copy (the registry's own errors answer at once, nothing is
 *             logged) → appended to the stream only if the stream still ends where this copy
 *             ends (expect.lastSequence) → applied locally → the caller gets its result.
 *             If another gateway wrote first: catch up, dry-run again, append again. So writes
 *             from all gateways are serialised (compare-and-set on the whole log): none is ever
 *             lost to a concurrent one, and a redeploy still keeps an env set meanwhile.
 *   a read    the local copy, as on one machine. Reads never touch NATS: a gateway cut off from
 *             NATS still serves invocations (with what it had), only writes fail (503).
 *   changes   from other gateways arrive by an ordered consumer and are applied as they come,
 *             each in one transaction with the sequence it brings the copy to; applying one
 *             drops the caches, so a revoked key, a rotated secret or a new version take effect on
 *             this gateway's next invocation after it arrives (read-your-writes on the writer).
 *
 * A new gateway with an empty data directory replays the whole stream before it serves.
 * Secrets are sealed before they reach the stream, with the key every gateway must share (the
 * genesis record holds its fingerprint: a gateway with another key refuses to start).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import type { Caller } from '../caller.js';
import { RegistryError } from '../errors.js';
import { adminLabel, prepareKey } from '../keys.js';
import { Registry, type RegistryOptions } from '../registry.js';
import type { RegistryApi } from '../registry-api.js';
import { SECRETS_KEY_FILE } from '../secret-box.js';
import type { CreateVersionInput } from '../schemas.js';
import { sql } from '../statements.js';
import { ChangeLog, ChangeLogUnavailableError, WrongLastSequenceError, type LoggedRecord } from './change-log.js';
import { applyChange, ChangeRecord, GenesisRecord, RECORD_FORMAT, type OpArgs, type OpName, type OpResult } from './changes.js';

/** The replica's own bookkeeping, in the meta table (not replicated). */
const REPLICA_OF = 'replica_of';
const APPLIED_SEQ = 'replica_applied_seq';
/** Another gateway wrote first this many times in a row: give up (503) rather than spin. */
const MAX_ATTEMPTS = 20;

export class SharedRegistryError extends RegistryError {
  override name = 'SharedRegistryError';
}

export interface SharedRegistryOptions extends Omit<RegistryOptions, 'now'> {
  /** NATS subject prefix (default fn.v1): the stream is `<prefix>-registry` (dots as dashes). */
  subjectPrefix?: string;
  /** How long one NATS operation may take (default 5 s). */
  timeoutMs?: number;
  /** Where problems applying the log are reported. */
  log?: (line: Record<string, unknown>) => void;
}

interface Waiter {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class SharedRegistry implements RegistryApi {
  readonly tenants: RegistryApi['tenants'];
  readonly keys: RegistryApi['keys'];
  readonly functions: RegistryApi['functions'];
  readonly env: RegistryApi['env'];
  private applied: number;
  private closed = false;
  /** Writes of this gateway, one at a time: they would only race each other on the log. */
  private writes: Promise<unknown> = Promise.resolve();
  /** This gateway's changes appended but not yet applied, by change id. */
  private readonly waiting = new Map<string, Waiter>();
  private readonly progress = new Set<() => void>();

  private constructor(
    private readonly local: Registry,
    private readonly clock: { at: number | undefined },
    private readonly changeLog: ChangeLog,
    readonly registryId: string,
    private readonly timeoutMs: number,
    private readonly report: (line: Record<string, unknown>) => void,
  ) {
    this.applied = this.readAppliedSeq();
    const r = local;
    this.tenants = {
      list: (caller) => r.tenants.list(caller),
      get: (caller, id) => r.tenants.get(caller, id),
      create: (caller, name) => this.write('tenants.create', [callerOf(caller), name]),
    };
    this.keys = {
      authenticate: (presented) => r.keys.authenticate(presented),
      list: (caller, tenantId) => r.keys.list(caller, tenantId),
      checkAdminKeyFromEnv: (envKey) => r.keys.checkAdminKeyFromEnv(envKey),
      create: async (caller, target, label) => {
        const key = prepareKey();
        return { ...(await this.write('keys.add', [callerOf(caller), target, label, key.stored])), secret: key.secret };
      },
      ensureAdminKey: async (envKey) => {
        // Every later gateway start: the copy (caught up at open) knows, and nothing is logged.
        if (r.keys.hasAdminKeyMark()) return null;
        const key = prepareKey(envKey);
        const created = await this.write('keys.ensureAdmin', [key.stored, adminLabel(envKey)]);
        return created && { ...created, secret: key.secret };
      },
      revoke: (caller, keyId) => this.write('keys.revoke', [callerOf(caller), keyId]),
    };
    this.functions = {
      list: (tenant) => r.functions.list(tenant),
      describe: (tenant, name) => r.functions.describe(tenant, name),
      versions: (tenant, name) => r.functions.versions(tenant, name),
      aliases: (tenant, name) => r.functions.aliases(tenant, name),
      resolve: (tenant, name, selector) => r.functions.resolve(tenant, name, selector),
      resolveForInvocation: (caller, owner, name, selector) => r.functions.resolveForInvocation(caller, owner, name, selector),
      referencedSnapshotDigests: () => r.functions.referencedSnapshotDigests(),
      referencedBundleDigests: () => r.functions.referencedBundleDigests(),
      createVersion: (input: CreateVersionInput) => this.write('functions.createVersion', [input]),
      delete: (tenant, name) => this.write('functions.delete', [tenant, name]),
      setAlias: (tenant, name, alias, version) => this.write('functions.setAlias', [tenant, name, alias, version]),
      deleteAlias: (tenant, name, alias) => this.write('functions.deleteAlias', [tenant, name, alias]),
      rollback: (tenant, name, toVersion) => this.write('functions.rollback', [tenant, name, toVersion ?? null]),
    };
    this.env = {
      secretNames: (tenant, name) => r.env.secretNames(tenant, name),
      secretsForInvocation: (tenant, name) => r.env.secretsForInvocation(tenant, name),
      envForInvocation: (tenant, name, version) => r.env.envForInvocation(tenant, name, version),
      setEnv: (tenant, name, vars) => this.write('env.setEnv', [tenant, name, vars]),
      unsetEnv: (tenant, name, names) => this.write('env.unsetEnv', [tenant, name, names]),
      // Sealed here, before the change is logged: the stream holds the box, never the value.
      setSecret: async (tenant, name, key, value) => {
        await this.write('env.setSealedSecret', [tenant, name, key, r.env.sealSecret(tenant, name, key, value).toString('base64')]);
      },
      unsetSecret: (tenant, name, key) => this.write('env.unsetSecret', [tenant, name, key]),
    };
  }

  /**
   * Opens the local copy in dataDir, joins the shared registry on NATS (starting it if the stream
   * is empty), and replays every change this copy has not applied yet before it resolves.
   */
  static async open(dataDir: string, nc: NatsConnection, options: SharedRegistryOptions = {}): Promise<SharedRegistry> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const changeLog = await ChangeLog.open(nc, options.subjectPrefix ?? 'fn.v1', timeoutMs);
    let genesis = await readGenesis(changeLog);
    const keyFile = options.secretKeyFile ?? join(dataDir, SECRETS_KEY_FILE);
    if (genesis && !options.secretKeyFile && !existsSync(keyFile)) {
      throw new SharedRegistryError(
        `the shared registry on NATS (stream "${changeLog.stream}") seals secrets with a key this gateway does not have: copy secrets.key from ` +
          `the data directory of a gateway already running, and pass it with --secret-key-file FILE (or FN_SECRET_KEY_FILE), or put it at ${keyFile}`,
      );
    }
    const clock: { at: number | undefined } = { at: undefined };
    const { subjectPrefix: _p, timeoutMs: _t, log: _l, ...registryOptions } = options;
    const local = Registry.open(dataDir, { ...registryOptions, now: () => clock.at ?? Date.now() });
    try {
      const fingerprint = local.box.fingerprint();
      if (!genesis) {
        const candidate: GenesisRecord = { v: RECORD_FORMAT, genesis: true, registryId: randomUUID(), keyFingerprint: fingerprint, at: Date.now() };
        try {
          await changeLog.append(candidate, 0, `genesis-${candidate.registryId}`);
        } catch (error) {
          if (!(error instanceof WrongLastSequenceError)) throw error;
        }
        // Ours, or that of a gateway that started the registry at the same moment.
        genesis = await readGenesis(changeLog);
        if (!genesis) throw new SharedRegistryError(`the registry stream "${changeLog.stream}" has no genesis record after writing one`);
      }
      if (genesis.keyFingerprint !== fingerprint) {
        throw new SharedRegistryError(
          `this gateway's secrets key (${local.box.keyPath}, fingerprint ${fingerprint}) is not the key the shared registry seals secrets with ` +
            `(fingerprint ${genesis.keyFingerprint}): every gateway needs the same key — copy secrets.key from a gateway already running and pass it with --secret-key-file`,
        );
      }
      adopt(local, genesis.registryId, changeLog.stream);
      const shared = new SharedRegistry(local, clock, changeLog, genesis.registryId, timeoutMs, options.log ?? (() => {}));
      // Replaying without an fsync per change (WAL + NORMAL still commits each change atomically
      // with its sequence): after a power loss the copy is merely behind, and replays again.
      local.db.pragma('synchronous = NORMAL');
      await changeLog.follow(shared.applied + 1, (logged) => shared.onRecord(logged));
      await shared.catchUp();
      local.db.pragma('synchronous = FULL');
      return shared;
    } catch (error) {
      changeLog.stop();
      local.close();
      throw error;
    }
  }

  get dataDir(): string {
    return this.local.dataDir;
  }

  get logs(): Registry['logs'] {
    return this.local.logs;
  }

  /** The stream sequence this copy has applied up to. */
  get appliedSeq(): number {
    return this.applied;
  }

  referencedSnapshotDigests(): Set<string> {
    return this.local.referencedSnapshotDigests();
  }

  referencedBundleDigests(): Set<string> {
    return this.local.referencedBundleDigests();
  }

  runRetention(): ReturnType<Registry['runRetention']> {
    return this.local.runRetention();
  }

  /** Waits until this copy has applied everything the stream held when called. */
  async catchUp(): Promise<void> {
    await this.until(await this.changeLog.lastSeq());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.changeLog.stop();
    for (const waiter of this.waiting.values()) waiter.reject(new SharedRegistryError('the registry was closed before the change was applied'));
    this.local.close();
  }

  private write<N extends OpName>(op: N, args: OpArgs<N>): Promise<OpResult<N>> {
    const run = this.writes.then(() => this.commit(op, args));
    this.writes = run.catch(() => {});
    return run as Promise<OpResult<N>>;
  }

  private async commit(op: OpName, args: unknown[]): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new SharedRegistryError('the registry is closed');
      // Through JSON, as every other copy reads it: the writer applies exactly what they apply.
      const change = JSON.parse(JSON.stringify({ v: RECORD_FORMAT, id: randomUUID(), at: Date.now(), op, args })) as ChangeRecord;
      // The registry's own refusals (not found, conflict, forbidden, invalid) answer here, and
      // nothing is logged. The same state + the same change = the same outcome on every copy.
      this.dryRun(change);
      const after = this.applied;
      const waiter = deferred();
      this.waiting.set(change.id, waiter);
      try {
        const seq = await this.changeLog.append(change, after, change.id);
        // Unless the follower has applied it meanwhile, this copy is at seq - 1: apply it now.
        if (this.applied === seq - 1) this.apply(seq, change);
        return await waiter.promise;
      } catch (error) {
        this.waiting.delete(change.id);
        if (!(error instanceof WrongLastSequenceError)) throw error;
        if (attempt >= MAX_ATTEMPTS)
          throw new ChangeLogUnavailableError(`the registry is being changed by other gateways too fast: ${MAX_ATTEMPTS} attempts lost the race — try again`);
        // Another gateway's change came first: apply it, then decide again on the new state.
        await this.catchUp();
      }
    }
  }

  /** Runs the change on the local copy and rolls it back: throws what applying it would throw. */
  private dryRun(change: ChangeRecord): void {
    const rollback = new Error('dry run');
    try {
      this.local.db
        .transaction(() => {
          this.atClock(change.at, () => applyChange(this.local, change));
          throw rollback;
        })
        .immediate();
    } catch (error) {
      if (error !== rollback) throw error;
    }
  }

  private onRecord({ seq, record }: LoggedRecord): void {
    if (this.closed || seq <= this.applied) return; // applied already (by the writer itself)
    if (seq !== this.applied + 1) {
      // An ordered consumer does not skip; a gap means records were removed from the stream.
      this.report({
        level: 'error',
        msg: 'registry change log: a gap in delivery (records removed from the stream?): this copy stops applying changes — check the stream with `nats stream info`',
        expected: this.applied + 1,
        got: seq,
      });
      return;
    }
    this.apply(seq, record);
  }

  /** Applies change `seq` and records it, in one transaction; settles its writer if it is ours. */
  private apply(seq: number, record: unknown): void {
    const parsed = ChangeRecord.safeParse(record);
    type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
    let outcome = { ok: true, value: undefined } as Outcome;
    this.local.db
      .transaction(() => {
        if (parsed.success) {
          try {
            outcome = { ok: true, value: this.atClock(parsed.data.at, () => applyChange(this.local, parsed.data)) };
          } catch (error) {
            // The change's own writes were a savepoint, rolled back; the sequence still moves on.
            outcome = { ok: false, error };
          }
        }
        sql(this.local.db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value = excluded.value').run(APPLIED_SEQ, String(seq));
      })
      .immediate();
    this.applied = seq;
    const waiter = parsed.success ? this.waiting.get(parsed.data.id) : undefined;
    if (waiter) {
      this.waiting.delete(parsed.data!.id);
      if (outcome.ok) waiter.resolve(outcome.value);
      else waiter.reject(outcome.error);
    } else if (!parsed.success) {
      this.report({ level: 'warn', msg: 'registry change log: skipped a record that is not a change of this format', seq });
    } else if (!outcome.ok) {
      this.report({ level: 'warn', msg: 'registry change log: a change failed here', seq, op: parsed.data.op, error: (outcome.error as Error).message });
    }
    for (const notify of [...this.progress]) notify();
  }

  private atClock<T>(at: number, run: () => T): T {
    this.clock.at = at;
    try {
      return run();
    } finally {
      this.clock.at = undefined;
    }
  }

  /** Resolves once this copy has applied `seq`. */
  private until(seq: number): Promise<void> {
    if (this.applied >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.applied < seq && !this.closed) return;
        done();
        resolve();
      };
      const done = () => {
        clearTimeout(timer);
        this.progress.delete(check);
      };
      const timer = setTimeout(
        () => {
          done();
          reject(
            new ChangeLogUnavailableError(`the registry copy did not reach change ${seq} of the stream within ${this.timeoutMs} ms (it is at ${this.applied})`),
          );
        },
        Math.max(this.timeoutMs, 30_000),
      );
      this.progress.add(check);
    });
  }

  private readAppliedSeq(): number {
    const row = sql(this.local.db, 'SELECT value FROM meta WHERE key = ?').get(APPLIED_SEQ) as { value: string } | undefined;
    return row ? Number(row.value) : 1;
  }
}

async function readGenesis(changeLog: ChangeLog): Promise<GenesisRecord | undefined> {
  const first = await changeLog.read(1);
  if (first === undefined) return undefined;
  const genesis = GenesisRecord.safeParse(first);
  if (!genesis.success)
    throw new SharedRegistryError(
      `the first record of the registry stream "${changeLog.stream}" is not a genesis record of format ${RECORD_FORMAT}: it was written by another fn version, or by something else`,
    );
  return genesis.data;
}

/**
 * Makes the local copy a replica of registry `id`: a copy of another registry, or a registry of
 * its own from before it was shared (a one-process data directory), is refused, not merged.
 */
function adopt(local: Registry, id: string, stream: string): void {
  const db = local.db;
  db.transaction(() => {
    const of = (sql(db, 'SELECT value FROM meta WHERE key = ?').get(REPLICA_OF) as { value: string } | undefined)?.value;
    if (of === id) return;
    if (of !== undefined) {
      throw new SharedRegistryError(
        `${local.dataDir} is a copy of another shared registry (${of}), not of the one on this NATS (stream "${stream}", ${id}): give this gateway an empty --data directory`,
      );
    }
    const has = (table: string) => sql(db, `SELECT 1 FROM ${table} LIMIT 1`).get() !== undefined;
    if (has('tenants') || has('api_keys') || has('functions')) {
      throw new SharedRegistryError(
        `${local.dataDir} holds a registry of its own (a one-process \`fn up\` data directory?): a gateway's registry is the shared one on NATS — give this gateway an empty --data directory`,
      );
    }
    sql(db, 'INSERT INTO meta (key, value) VALUES (?, ?)').run(REPLICA_OF, id);
    sql(db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value = excluded.value').run(APPLIED_SEQ, '1');
  })();
}

function deferred(): Waiter {
  let resolve!: (value: unknown) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // settled before anyone awaits it is not "unhandled"
  return { promise, resolve, reject };
}

function callerOf(caller: Caller): Caller {
  return { tenantId: caller.tenantId };
}
