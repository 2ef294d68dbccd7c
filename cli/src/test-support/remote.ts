/**
 * For the remote commands' tests: the real gateway (createApp over a real registry in a temp dir,
 * fake deployer and invoker: gateway/src/test-support/harness.ts) served on a free port, and the
 * real `fn` binary run against it as a child process, with a config home of its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { startServer, type RunningServer } from '../../../gateway/src/server.js';
import { createHarness, type Harness } from '../../../gateway/src/test-support/harness.js';

export const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Remote {
  h: Harness;
  server: RunningServer;
  /** A temp dir used as HOME and XDG_CONFIG_HOME: no user's real config leaks in. */
  home: string;
  /** Runs `fn …` with FN_URL and FN_API_KEY (acme's key) unless env overrides them (null: unset). */
  fn(
    args: string[],
    env?: Record<string, string | null>,
    options?: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; stdin?: string },
  ): Promise<Run>;
}

/** Registers the hooks; the returned object's fields are filled in before each test. */
/** `harness`: options for each test's gateway (an async queue, say). */
export function useRemote(options: { harness?: () => Parameters<typeof createHarness>[0] } = {}): Remote {
  const remote = {} as Remote;
  beforeAll(() => {
    // The bin runs cli/dist: build it (incremental, a second when nothing changed).
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root, stdio: 'inherit' });
  });
  beforeEach(async () => {
    remote.h = createHarness(options.harness?.());
    remote.server = await startServer(remote.h.app, { port: 0 });
    remote.home = mkdtempSync(join(tmpdir(), 'fn-cli-home-'));
  });
  afterEach(async () => {
    await remote.server.close();
    remote.h.close();
    rmSync(remote.home, { recursive: true, force: true });
  });
  remote.fn = (args, env = {}, options = {}) =>
    new Promise((resolve, reject) => {
      const merged: Record<string, string | null> = {
        FN_URL: remote.server.url,
        FN_API_KEY: remote.h.acmeKey,
        HOME: remote.home,
        XDG_CONFIG_HOME: join(remote.home, 'config'),
        ...env,
      };
      const childEnv: NodeJS.ProcessEnv = { ...process.env };
      for (const [k, v] of Object.entries(merged)) {
        if (v === null) delete childEnv[k];
        else childEnv[k] = v;
      }
      delete childEnv.FN_DEBUG;
      // Asynchronous on purpose: the gateway answers from this process's event loop.
      const child = spawn(process.execPath, ['cli/bin/fn.js', ...args], { cwd: root, env: childEnv });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        options.onStdout?.(stdout, child);
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // stdin: what the test pipes in (a secret, a key), then end of file, as a shell pipe would.
      child.stdin.end(options.stdin ?? '');
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  return remote;
}
