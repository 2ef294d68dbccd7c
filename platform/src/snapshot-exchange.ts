/**
 * Snapshots between machines through a JetStream Object Store bucket, so a worker needs no shared
 * disk with the gateway. The gateway publishes each deployed version's snapshot (with its closure:
 * the base snapshot and every memory layer) as one object named by the snapshot's digest; a
 * worker fetches it on first need into its own store and keeps it there.
 *
 * The object is @fn/snapshots' transfer pack: zero pages left out, the rest as snappy-compressed
 * page runs (2.6 MiB for a 64 MiB function and its base, measured in snapshots/README.md). The
 * object store checks its own SHA-256 of the object; unpacking verifies every blob against its
 * digest again, so a worker never restores bytes that are not what was deployed.
 */
import { Readable } from 'node:stream';
import { StorageType, type NatsConnection, type ObjectStore } from 'nats';
import { packForTransfer, unpackFromTransfer, type Digest, type SnapshotStore } from '@fn/snapshots';

export class SnapshotMissingError extends Error {
  override name = 'SnapshotMissingError';
}

export class SnapshotExchange {
  /** One fetch per digest at a time: concurrent cold starts of a new version share it. */
  private readonly fetching = new Map<Digest, Promise<void>>();

  private constructor(
    private readonly objects: ObjectStore,
    private readonly store: SnapshotStore,
    readonly bucket: string,
  ) {}

  /** Opens (creating if needed, file storage) the bucket. Needs JetStream on the server (`nats-server -js`). */
  static async open(nc: NatsConnection, store: SnapshotStore, bucket: string): Promise<SnapshotExchange> {
    let objects: ObjectStore;
    try {
      objects = await nc
        .jetstream()
        .views.os(bucket, { storage: StorageType.File, description: 'fn: function snapshots (transfer packs, by snapshot digest)' });
    } catch (error) {
      throw new Error(`could not open the JetStream object store "${bucket}" (${(error as Error).message}) — is JetStream enabled (nats-server -js)?`, {
        cause: error,
      });
    }
    return new SnapshotExchange(objects, store, bucket);
  }

  /** Makes a snapshot in the local store available to every worker. Does nothing if it already is. */
  async publish(digest: Digest): Promise<void> {
    if (await this.objects.info(digest)) return;
    const pack = await packForTransfer(this.store, digest);
    await this.objects.put({ name: digest }, Readable.toWeb(pack) as ReadableStream<Uint8Array>);
  }

  /** Brings a snapshot into the local store unless it is there already (its state file is written last). */
  ensureLocal(digest: Digest): Promise<void> {
    let pending = this.fetching.get(digest);
    if (!pending) {
      pending = this.fetch(digest).finally(() => this.fetching.delete(digest));
      this.fetching.set(digest, pending);
    }
    return pending;
  }

  private async fetch(digest: Digest): Promise<void> {
    if (await this.store.hasBlob(digest)) return;
    const object = await this.objects.get(digest);
    if (!object)
      throw new SnapshotMissingError(
        `snapshot ${digest} is in neither this worker's store nor the object store "${this.bucket}" — was it deployed through a gateway on this NATS?`,
      );
    await unpackFromTransfer(this.store, object.data as unknown as AsyncIterable<Uint8Array>);
    const failed = await object.error;
    if (failed) throw new Error(`fetching snapshot ${digest} from the object store "${this.bucket}" failed: ${failed.message}`, { cause: failed });
  }
}
