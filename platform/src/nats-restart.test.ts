// nats-server restarted on its file store: connected processes reconnect by themselves, requests
// flow again, and the snapshot object store still holds what was published before the restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract, NatsBus } from '@fn/scheduler';
import { SnapshotStore } from '@fn/snapshots';
import { freePort, startNatsServer, type TestNatsServer } from '../../scheduler/src/test-support/nats-server.js';
import { putBase, putFunction } from '../../snapshots/src/test-support/fixtures.js';
import { SnapshotExchange } from './snapshot-exchange.js';

const Echo = defineContract({ subject: 'echo', request: z.object({ n: z.number() }), reply: z.object({ n: z.number() }) });
const storeDir = mkdtempSync(join(tmpdir(), 'fn-nats-restart-'));
let server: TestNatsServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(storeDir, { recursive: true, force: true });
});

it('reconnects after a restart of nats-server, and the snapshot bucket survives on its file store', async () => {
  const port = await freePort();
  server = await startNatsServer({ storeDir: join(storeDir, 'nats'), port });
  const [responder, requester] = [
    await NatsBus.connect(server.url, { connection: { reconnectTimeWait: 100 } }),
    await NatsBus.connect(server.url, { connection: { reconnectTimeWait: 100 } }),
  ];
  try {
    await responder.serve(Echo, (req) => ({ n: req.n + 1 }));
    expect(await requester.request(Echo, { n: 1 }, { timeoutMs: 5_000 })).toEqual({ n: 2 });

    const gatewayStore = new SnapshotStore(join(storeDir, 'gateway'));
    const fn = await putFunction(gatewayStore, await putBase(gatewayStore), 'hello');
    await (await SnapshotExchange.open(requester.nc, gatewayStore, 'restart-snapshots')).publish(fn.digest);

    await server.stop(); // SIGKILL: no goodbye to the clients
    server = await startNatsServer({ storeDir: join(storeDir, 'nats'), port });

    // The subscription comes back with the connection; until then a request finds no responder.
    for (const start = Date.now(); ; ) {
      const reply = await requester.request(Echo, { n: 41 }, { timeoutMs: 1_000 }).catch(() => undefined);
      if (reply) {
        expect(reply).toEqual({ n: 42 });
        break;
      }
      if (Date.now() - start > 20_000) throw new Error('the buses did not reconnect within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    const workerStore = new SnapshotStore(join(storeDir, 'worker'));
    await (await SnapshotExchange.open(responder.nc, workerStore, 'restart-snapshots')).ensureLocal(fn.digest);
    expect((await workerStore.loadSnapshot(fn.digest)).digest).toBe(fn.digest);
  } finally {
    await Promise.all([responder.close(), requester.close()]);
  }
});
