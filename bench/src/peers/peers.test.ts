// The peers really run here: a node process and, where their Debian packages are installed, a crun,
// runc and gVisor container per request, each answering the same hello and echo as fn's functions
// (spawn-each checks every answer's exact body). The load runner and handler are spawned as the
// compiled files, so this imports the build (npm test builds first).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../dist/load/spawn.js';
import { HANDLER, HELLO_BODY, measurePeer, PEERS } from '../../dist/peers/peers.js';

const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const root = process.getuid?.() === 0;

describe('peers of npm run bench', () => {
  for (const peer of PEERS) {
    const runnable = peer.key === 'node_process' || (root && has(peer.key) && has('unshare'));
    it.skipIf(!runnable)(
      `${peer.label}: answers hello and echo, one ${peer.isolation === 'process' ? 'process' : 'sandbox'} per request`,
      { timeout: 120_000 },
      async () => {
        const run = await measurePeer(peer, 2, 0);
        expect(run.hello).toHaveLength(2);
        expect(run.echo).toHaveLength(2);
        for (const ms of [...run.hello, ...run.echo]) expect(ms).toBeGreaterThan(0);
      },
    );
  }

  it('a process that fails or answers wrong fails the run with the reason (bench then reports the peer as null)', { timeout: 60_000 }, async () => {
    const job = { mode: 'spawn-each' as const, count: 1, warmup: 0 };
    await expect(runLoad({ ...job, argv: [process.execPath, HANDLER, 'nonsense'], expect: HELLO_BODY })).rejects.toThrow(
      /exited with 2.*unknown kind nonsense/,
    );
    await expect(runLoad({ ...job, argv: [process.execPath, HANDLER, 'hello'], expect: 'something else' })).rejects.toThrow(
      /printed "Hello from fn!\\n", expected "something else"/,
    );
  });
});
