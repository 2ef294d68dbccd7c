/**
 * A harness behind the real HTTP server (@hono/node-server on port 0), fresh for each test of the
 * file that calls this at its top level: for tests that must cross a real socket.
 */
import { afterEach, beforeEach } from 'vitest';
import { startServer, type RunningServer } from '../server.js';
import { createHarness, type Harness } from './harness.js';

export interface ServedHarness {
  readonly h: Harness;
  /** A test that restarts the server puts the new one here, for afterEach to close. */
  server: RunningServer;
}

export function useServedHarness(): ServedHarness {
  const current = {} as { h: Harness; server: RunningServer };
  beforeEach(async () => {
    current.h = createHarness();
    current.server = await startServer(current.h.app, { port: 0 });
  });
  afterEach(async () => {
    await current.server.close();
    current.h.close();
  });
  return current;
}
