/**
 * Entry of a VMM host process, started by the worker with child_process.fork (IPC channel,
 * serialization 'advanced'). It holds microVMs so that the worker's own process doesn't: KVM
 * costs per process grow with the VMs it holds (DESIGN.md §1), and a crash here costs only the
 * invocations in flight on this host.
 */
import { createLogger } from '@fn/telemetry';
import { lockDownKvmHost } from '@fn/vmm';
import { VmmHostServer } from './host-server.js';
import type { HostMessage } from './protocol.js';

// Its lines go to the worker's stdout (inherited), marked as the host's.
const log = createLogger({ base: { process: 'vmm-host', pid: process.pid } });

if (!process.send) {
  log.fatal('host-main must be started by the worker with child_process.fork (it talks over the IPC channel)');
  process.exit(2);
}

const send = (message: HostMessage): void => {
  // The channel closes when the worker goes away (a reply can race it: EPIPE). The callback keeps
  // that from becoming an unhandled 'error'; the 'disconnect' handler below ends this process.
  if (process.connected) process.send!(message, undefined, {}, () => {});
};

const server = new VmmHostServer(send, log);
// Locked down before the first VM and before `ready` (host-client.ts says when): from here on a
// guest that took this process over cannot exec, fork, open sockets, write files or outgrow its
// memory limit (vmm/native/host_lockdown.h). Everything the host needs is loaded by now.
const lockdown = process.env.FN_VMM_HOST_LOCKDOWN;
if (lockdown && lockdown !== '0') {
  try {
    const { memoryMiB, allowFileWrites = false } = JSON.parse(lockdown) as { memoryMiB?: number; allowFileWrites?: boolean };
    // FN_LANDLOCK_ABI: set by fn-landlock-exec when the worker started this host through it.
    const landlockAbi = Number(process.env.FN_LANDLOCK_ABI ?? 0);
    // A deploy host writes snapshot files, which its seccomp filter then allows anywhere: only
    // Landlock (one writable scratch directory) keeps those writes out of the data directory.
    if (allowFileWrites && !(landlockAbi >= 1))
      throw new Error('a deploy host needs Landlock (Linux 5.13+, landlock in lsm=) to confine its writes to its scratch directory');
    server.lockdown = { ...lockDownKvmHost({ memoryMiB, allowFileWrites }), landlockAbi };
    server.builds = allowFileWrites;
  } catch (err) {
    log.fatal({ error: (err as Error).message }, 'the VMM host could not lock itself down');
    process.exit(2);
  }
}
process.on('message', (message: unknown) => server.handle(message));
// Without the worker nobody can use these VMs: close them all and leave.
process.on('disconnect', () => {
  server.closeAll();
  process.exit(0);
});
send({ type: 'ready', pid: process.pid });
