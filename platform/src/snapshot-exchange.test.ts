// Snapshots from the gateway's store to a worker's through a real nats-server's JetStream object store.
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SnapshotStore } from '@fn/snapshots';
import { startNatsServer, type TestNatsServer } from '../../scheduler/src/test-support/nats-server.js';
import { putBase, putFunction, tempDir } from '../../snapshots/src/test-support/fixtures.js';
import { SnapshotExchange, SnapshotMissingError } from './snapshot-exchange.js';

let nats: TestNatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

it('publishes a snapshot with its closure once, and a worker fetches it into its own store, verified, on first need', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const gatewayStore = new SnapshotStore(join(dir, 'gateway'));
    const workerStore = new SnapshotStore(join(dir, 'worker'));
    const base = await putBase(gatewayStore);
    const fn = await putFunction(gatewayStore, base, 'hello');
    const gateway = await SnapshotExchange.open(nc, gatewayStore, 'test-snapshots');
    const worker = await SnapshotExchange.open(nc, workerStore, 'test-snapshots');

    await expect(worker.ensureLocal(fn.digest)).rejects.toThrow(SnapshotMissingError);
    await gateway.publish(fn.digest);
    await gateway.publish(fn.digest); // Already there: nothing to do.
    const objects = await nc.jetstream().views.os('test-snapshots');
    expect((await objects.list()).map((o) => o.name)).toEqual([fn.digest]);

    await Promise.all([worker.ensureLocal(fn.digest), worker.ensureLocal(fn.digest)]);
    const loaded = await workerStore.loadSnapshot(fn.digest);
    expect(loaded.digest).toBe(fn.digest);
    expect((await workerStore.readBlob(base.digest)).equals(base.state)).toBe(true);
    expect(await workerStore.closureOf(fn.digest)).toEqual(await gatewayStore.closureOf(fn.digest));
  } finally {
    await cleanup();
  }
});
