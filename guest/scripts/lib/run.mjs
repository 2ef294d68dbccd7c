// run.mjs — running tools without a shell (arguments are passed as they are, quotes included).

import { spawn, spawnSync } from 'node:child_process';
import { GuestBuildError } from './log.mjs';

/** Runs a command to completion; rejects with its stderr when it fails. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => reject(new GuestBuildError(`cannot run ${command}: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new GuestBuildError(`${command} ${args.join(' ')}\nexited with ${code}\n${stderr}${stdout}`));
    });
  });
}

/** True if `command` can be found on PATH. */
export function haveCommand(command) {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  return r.status === 0;
}

/** Runs jobs (functions returning promises) with at most `limit` in flight. */
export async function runPool(jobs, limit) {
  let next = 0;
  let failure = null;
  async function worker() {
    while (next < jobs.length && !failure) {
      const job = jobs[next++];
      try {
        await job();
      } catch (error) {
        failure ??= error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  if (failure) throw failure;
}
