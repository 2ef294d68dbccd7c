/**
 * `fn up` as a user starts it, one child process per call, for the tests that run fn's roles as
 * separate processes (roles, gateways, async-roles). Each test file owns one FnUpProcesses and
 * stops what it started in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fnBin = join(root, 'cli/bin/fn.js');

export interface FnUpProcess {
  child: ChildProcess;
  output: () => string;
}

export class FnUpProcesses {
  private readonly children: ChildProcess[] = [];

  /**
   * Starts `fn up <args>` and resolves once its output matches `ready`; rejects with that output
   * if it exits first. The first start makes its own admin key, so FN_API_KEY is never passed on,
   * nor the variables named in `withoutEnv`.
   */
  start(args: string[], ready: RegExp, withoutEnv: string[] = []): Promise<FnUpProcess> {
    const env = { ...process.env };
    for (const name of ['FN_API_KEY', ...withoutEnv]) delete env[name];
    const child = spawn(process.execPath, [fnBin, 'up', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (out += b));
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`fn up ${args.join(' ')} exited with ${code} before it was up:\n${out}`)));
      const poll = setInterval(() => {
        if (ready.test(out)) {
          clearInterval(poll);
          resolve({ child, output: () => out });
        }
      }, 50);
    });
  }

  /** SIGTERM to every process still running, waiting for each to exit. */
  async stopAll(): Promise<void> {
    for (const child of this.children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    }
  }
}
