/**
 * A real nats-server for tests: its own process on a free port, JetStream on, its store in a temp
 * directory that is removed again on stop(). Tests never skip when nats-server is missing: .ci/run
 * installs it (Debian's `nats-server`), so a missing binary is a broken machine and says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestNatsServer {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  storeDir: string;
  /** Kills the server and removes its store. Idempotent. */
  stop(): Promise<void>;
}

const BINARY_HINT = 'nats-server is not installed — install it with `apt-get install -y nats-server` (Debian ships 2.9 with JetStream; .ci/run does this)';

function natsServerBinary(): string {
  for (const candidate of [process.env.FN_NATS_SERVER, 'nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    if (!candidate) continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  throw new Error(BINARY_HINT);
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts nats-server with JetStream and waits until it accepts connections. */
export async function startNatsServer(
  options: {
    storeDir?: string;
    port?: number;
    /** More nats-server arguments (e.g. `-c conf` for TLS or authorization). */
    args?: string[];
    /** The URL's scheme: tls for a server that requires TLS. */
    scheme?: 'nats' | 'tls';
  } = {},
): Promise<TestNatsServer> {
  const binary = natsServerBinary();
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'fn-nats-'));
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(options.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = once(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (ownStore) rmSync(storeDir, { recursive: true, force: true });
  });
  try {
    await waitForReady(() => stderr, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `${options.scheme ?? 'nats'}://127.0.0.1:${port}`, port, storeDir, stop };
}

/** nats-server logs "Server is ready" once it listens (its log goes to stderr). */
async function waitForReady(log: () => string, child: ChildProcess): Promise<void> {
  const start = Date.now();
  while (!log().includes('Server is ready')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited before it was ready: ${log().trim()}`);
    if (Date.now() - start > 20_000) throw new Error(`nats-server did not get ready within 20 s: ${log().trim()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= run());
}
