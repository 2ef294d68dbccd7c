// A start that cannot succeed fails with one clear PlatformStartError and leaves nothing running:
// no VMM host process, no listening port, no open database.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ptraceUsable } from '@fn/vmm';
import { PlatformStartError } from './errors.js';
import { checkBuild } from './preflight.js';
import { startPlatform } from './start-platform.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

/** This test process's child processes (the VMM hosts a platform starts are its children). */
const children = () => readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
const quiet = () => {};
const backend = ptraceUsable() ? 'ptrace' : 'kvm';

async function busyPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return (server.address() as { port: number }).port;
}

it('a port in use: says which and what to do, before any VMM host is started', async () => {
  const port = await busyPort();
  const before = children();
  const err = await startPlatform({ dataDir: mkdtempSync(join(tmpdir(), 'fn-busy-')), port, backend, logger: quiet }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PlatformStartError);
  expect((err as Error).message).toBe(
    `port ${port} is already in use on 127.0.0.1 — stop what listens there, or start fn on another port with --port N (or PORT=N)`,
  );
  expect(children()).toEqual(before);
});

it('a data directory that cannot be written: says which and why', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'fn-nodir-')), 'a-file');
  writeFileSync(file, '');
  const err = await startPlatform({ dataDir: join(file, 'data'), port: 0, backend, logger: quiet }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PlatformStartError);
  expect((err as Error).message).toMatch(
    new RegExp(`^the data directory ${join(file, 'data')} cannot be written \\(ENOTDIR\\) — fix its permissions, or choose another with --data DIR`),
  );
});

it('a missing build: names the missing files and the command that makes them', () => {
  expect(() => checkBuild(['/nonexistent/guest/build/fn-guest.elf', process.execPath])).toThrow(
    new PlatformStartError('fn is not built: /nonexistent/guest/build/fn-guest.elf is missing — run `npm run build` in the repository first'),
  );
});

it('an unusable FN_API_KEY: refused right after the registry opens, before the port and any VMM host (issue 13, hole 5)', async () => {
  const before = children();
  const dataDir = mkdtempSync(join(tmpdir(), 'fn-badkey-'));
  const err = await startPlatform({ dataDir, port: 0, backend, adminKey: 'short', hosts: 2, logger: quiet }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PlatformStartError);
  expect((err as Error).message).toMatch(/^FN_API_KEY cannot be used: .*FN_API_KEY must be at least 16 characters/);
  expect(children()).toEqual(before);
});

it('a step that fails after the port is open: everything started is closed, and the data directory is free for the next start', async () => {
  const before = children();
  const dataDir = mkdtempSync(join(tmpdir(), 'fn-late-'));
  // More VMM hosts than a worker may have: refused after the registry and the port are up.
  const err = await startPlatform({ dataDir, port: 0, backend, hosts: 65, logger: quiet }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PlatformStartError);
  expect((err as Error).message).toMatch(/could not start the worker's VMM host processes/);
  await expect.poll(children, { timeout: 10_000 }).toEqual(before);
  // Nothing holds the data directory: a second start on it works, and closes cleanly.
  const again = await startPlatform({ dataDir, port: 0, backend, hosts: 1, logger: quiet });
  expect((await fetch(`${again.url}/openapi.json`)).status).toBe(200);
  await again.close();
  await expect.poll(children, { timeout: 10_000 }).toEqual(before);
});
