/**
 * The systems a user would pick instead of fn, each answering the same hello and JSON echo, each
 * measured from its own load process (load/load-runner.ts). A peer that cannot run here is
 * reported with the reason, never failing the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from '../load/spawn.js';
import type { SpawnEachResult } from '../load/spawn-each.js';
import { writeBundle } from './oci-bundle.js';

export type Isolation = 'none' | 'process' | 'container' | 'gVisor' | 'VM';

export interface PeerSpec {
  key: 'node_process' | 'crun' | 'runc' | 'runsc';
  label: string;
  isolation: Isolation;
}

export const HANDLER = fileURLToPath(new URL('./handler.js', import.meta.url));
export const ECHO_SENT = { user: 'ada', n: 7, text: 'héllo' };
export const HELLO_BODY = 'Hello from fn!\n';
export const ECHO_BODY = JSON.stringify({ echo: ECHO_SENT });

export const PEERS: PeerSpec[] = [
  { key: 'node_process', label: 'node process per request', isolation: 'process' },
  { key: 'crun', label: 'crun container per request', isolation: 'container' },
  { key: 'runc', label: 'runc container per request', isolation: 'container' },
  { key: 'runsc', label: 'gVisor runsc (ptrace) per request', isolation: 'gVisor' },
];

// crun refuses this machine's hybrid cgroup layout: the runner goes into a private mount namespace
// and unmounts /sys/fs/cgroup/unified there (the host keeps it). runc and runsc run the same way.
const PRIVATE_MOUNTS = ['unshare', '-m', '--propagation', 'private'];

function argvFor(key: PeerSpec['key'], bundle: string, kindArgs: string[]): string[] {
  switch (key) {
    case 'node_process':
      return [process.execPath, HANDLER, ...kindArgs];
    case 'crun':
      return ['crun', 'run', '--bundle', bundle, '{id}'];
    case 'runc':
      return ['runc', 'run', '--bundle', bundle, '{id}'];
    case 'runsc':
      return ['runsc', '--platform=ptrace', '--network=none', '--ignore-cgroups', 'run', '--bundle', bundle, '{id}'];
  }
}

export interface PeerRun {
  hello: number[];
  echo: number[];
}

/** Measures one peer: `count` hellos and `count` echoes, each a new process or container. */
export async function measurePeer(peer: PeerSpec, count: number, warmup: number): Promise<PeerRun> {
  const work = mkdtempSync(join(tmpdir(), `fn-bench-${peer.key}-`));
  const run = async (kindArgs: string[], expect: string, name: string) => {
    const bundle = peer.key === 'node_process' ? '' : writeBundle(join(work, name), HANDLER, kindArgs);
    const container = peer.key !== 'node_process';
    const result = await runLoad<SpawnEachResult>(
      { mode: 'spawn-each', argv: argvFor(peer.key, bundle, kindArgs), count, warmup, expect, privateCgroupV1: container },
      container ? { prefix: PRIVATE_MOUNTS } : {},
    );
    return result.latenciesMs;
  };
  try {
    return { hello: await run(['hello'], HELLO_BODY, 'hello'), echo: await run(['echo', JSON.stringify(ECHO_SENT)], ECHO_BODY, 'echo') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
