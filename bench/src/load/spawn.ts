/** Starting the load runner and the baseline server as child processes of the benchmark. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from './load-runner.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Runs one job in a fresh load-runner process and returns its result. */
export function runLoad<R extends LoadResult>(job: LoadJob, o: { prefix?: string[] } = {}): Promise<R> {
  return new Promise((resolve, reject) => {
    // prefix: a command the runner is started under, e.g. `unshare -m --propagation private`.
    const argv = [...(o.prefix ?? []), process.execPath, here('./load-runner.js'), JSON.stringify(job)];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as R) : reject(new Error(`the load runner exited with ${code}: ${err.trim().split('\n').at(-1) ?? ''}`)),
    );
  });
}

/** Starts the baseline server; resolves with its URL and a stop function. */
export function startBaseline(): Promise<{ url: string; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here('./baseline-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout.once('data', (b: Buffer) => {
      const stop = () => new Promise<void>((done) => (child.exitCode !== null ? done() : (child.once('exit', () => done()), child.kill('SIGTERM'))));
      resolve({ url: `http://127.0.0.1:${String(b).trim()}`, stop });
    });
  });
}
