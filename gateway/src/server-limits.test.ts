// The server's own limits over real sockets (issue 13, hole 7): a request body that trickles is cut
// at the request timeout (Node's default held it 300 s), and connections over the cap are closed.
import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startServer, type RunningServer } from './server.js';
import { createHarness, type Harness } from './test-support/harness.js';

let h: Harness | undefined;
let server: RunningServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  h?.close();
});

function open(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let data = '';
    socket.on('data', (b) => (data += b.toString('latin1')));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

it('a request whose body never finishes is answered 408 and its connection closed at the request timeout', { timeout: 15_000 }, async () => {
  h = createHarness();
  await h.deploy(h.acmeKey, 'api', { public: true });
  server = await startServer(h.app, { port: 0, requestTimeoutMs: 500, headersTimeoutMs: 500 });
  const { socket, received, closed } = await open(server.port);
  socket.write('POST /fn/acme/api HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nonly the start');
  await closed; // without a request timeout the server holds it for 300 s and this test times out
  expect(received()).toMatch(/^HTTP\/1\.1 408/);
  expect(h.invoker.calls).toHaveLength(0);
});

it('connections beyond maxConnections are closed at once; the server serves again when they go', { timeout: 15_000 }, async () => {
  h = createHarness();
  server = await startServer(h.app, { port: 0, maxConnections: 2 });
  const held = [await open(server.port), await open(server.port)];
  const third = await open(server.port);
  await third.closed; // without a cap it stays open (idle) and this test times out
  expect(third.received()).toBe('');
  for (const c of held) {
    c.socket.destroy();
    await c.closed;
  }
  // The server learns of the two closes asynchronously: retry until it has.
  let status = 0;
  for (let attempt = 0; status !== 200 && attempt < 100; attempt++) {
    status = await fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${h.acmeKey}` } }).then(
      (r) => r.status,
      () => 0,
    );
  }
  expect(status).toBe(200);
});
