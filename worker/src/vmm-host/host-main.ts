/**
 * Entry of a VMM host process, started by the worker with child_process.fork (IPC channel,
 * serialization 'advanced'). It holds microVMs so that the worker's own process doesn't: KVM
 * costs per process grow with the VMs it holds (DESIGN.md §1), and a crash here costs only the
 * invocations in flight on this host.
 */
import { VmmHostServer } from './host-server.js';
import type { HostMessage } from './protocol.js';

if (!process.send) {
  process.stderr.write('host-main must be started by the worker with child_process.fork (it talks over the IPC channel)\n');
  process.exit(2);
}

const send = (message: HostMessage): void => {
  // The channel closes when the worker goes away (a reply can race it: EPIPE). The callback keeps
  // that from becoming an unhandled 'error'; the 'disconnect' handler below ends this process.
  if (process.connected) process.send!(message, undefined, {}, () => {});
};

const server = new VmmHostServer(send);
process.on('message', (message: unknown) => server.handle(message));
// Without the worker nobody can use these VMs: close them all and leave.
process.on('disconnect', () => {
  server.closeAll();
  process.exit(0);
});
send({ type: 'ready', pid: process.pid });
