/**
 * The VMM host's side of the protocol: holds MicroVMs (any backend) by vmId and serves restore,
 * invoke, close and stats. Every request is validated before it is acted on; a request that does
 * not parse is refused with a VmmHostProtocolError and changes nothing. Transport-free (it gets a
 * `send` function) so host-main.ts only wires it to the IPC channel.
 */
import type { VmResult } from '@fn/contract';
import { MicroVM } from '@fn/vmm';
import { VmLostError, VmmHostProtocolError } from '../errors.js';
import { hostRssKiB } from './process-memory.js';
import { HostRequestSchema, type HostMessage, type HostRequest } from './protocol.js';
import { toWireError } from './wire-errors.js';

type Reply = Extract<HostMessage, { type: 'reply' }>;
const NO_FLAGS = { vmClosed: false, notStarted: false };

export class VmmHostServer {
  private readonly vms = new Map<string, MicroVM>();
  private nextVm = 1;
  private closing = false;

  constructor(private readonly send: (message: HostMessage) => void) {}

  /** One message from the worker, as it arrived (untrusted until parsed). */
  handle(raw: unknown): void {
    const received = performance.now();
    const parsed = HostRequestSchema.safeParse(raw);
    if (!parsed.success) {
      this.refuse(raw, parsed.error.issues[0]);
      return;
    }
    const request = parsed.data;
    this.dispatch(request).then(
      (reply) => {
        // The host's own time goes with the result, for the Server-Timing breakdown.
        if (reply.ok && request.op === 'invoke') (reply.result as VmResult).timings.host = performance.now() - received;
        this.send(reply);
      },
      (err: unknown) => this.send({ type: 'reply', id: request.id, ok: false, error: toWireError(err, NO_FLAGS) }),
    );
  }

  /** Closes every VM (the worker went away, or asked the host to stop). */
  closeAll(): void {
    this.closing = true;
    for (const vm of this.vms.values()) vm.close();
    this.vms.clear();
  }

  private async dispatch(request: HostRequest): Promise<Reply> {
    const ok = (result: unknown): Reply => ({ type: 'reply', id: request.id, ok: true, result });
    switch (request.op) {
      case 'restore': {
        const vm = await MicroVM.restore(request.snapshot, { timeoutMs: request.timeoutMs });
        if (this.closing) {
          vm.close();
          throw new VmLostError('the VMM host is shutting down — the restored VM was closed');
        }
        const vmId = `vm-${this.nextVm++}`;
        this.vms.set(vmId, vm);
        return ok({ vmId, pid: vm.hostPid, platform: vm.platform, restoreMs: vm.bootMs });
      }
      case 'invoke':
        return this.invoke(request.id, request.vmId, request.request);
      case 'close': {
        const vm = this.vms.get(request.vmId);
        vm?.close();
        this.vms.delete(request.vmId);
        return ok({ closed: vm !== undefined });
      }
      case 'stats':
        return ok({ pid: process.pid, vms: this.vms.size, rssKiB: hostRssKiB([...this.vms.values()].map((vm) => vm.hostPid)) });
    }
  }

  private async invoke(id: number, vmId: string, request: Extract<HostRequest, { op: 'invoke' }>['request']): Promise<Reply> {
    const vm = this.vms.get(vmId);
    // The previous invocation's reset may still be running; a VM whose reset failed is closed.
    await vm?.settled();
    if (!vm || vm.closed) {
      this.vms.delete(vmId);
      const lost = new VmLostError(`microVM ${vmId} is no longer on this host (closed, or its reset failed) — the invocation did not start; retry it on another VM`);
      return { type: 'reply', id, ok: false, error: toWireError(lost, { vmClosed: true, notStarted: true }) };
    }
    try {
      const { response, logs, error, timings } = await vm.execute(request);
      this.watchReset(vmId, vm);
      const result: VmResult = { response, logs, ...(error ? { error } : {}), timings: { vm: timings.totalUs / 1000, guest: timings.guestUs / 1000 } };
      return { type: 'reply', id, ok: true, result };
    } catch (err) {
      // A timeout, OOM or crash closes the MicroVM: forget it so it is never used again. A bad
      // response leaves it healthy, resetting like after any other invocation.
      if (vm.closed) this.vms.delete(vmId);
      else this.watchReset(vmId, vm);
      return { type: 'reply', id, ok: false, error: toWireError(err, { vmClosed: vm.closed, notStarted: false }) };
    }
  }

  /**
   * The reset after an invocation runs off the reply path. When it is done the worker hears
   * vm-ready (so it picks this VM before one still resetting); if it failed the VM is dead: vm-lost.
   */
  private watchReset(vmId: string, vm: MicroVM): void {
    void vm.settled().then(() => {
      if (this.vms.get(vmId) !== vm || this.closing) return;
      if (!vm.closed) {
        this.send({ type: 'vm-ready', vmId });
        return;
      }
      this.vms.delete(vmId);
      this.send({ type: 'vm-lost', vmId, reason: 'its reset to the snapshot failed after an invocation' });
    });
  }

  private refuse(raw: unknown, issue: { path: PropertyKey[]; message: string } | undefined): void {
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
    const err = new VmmHostProtocolError(`the VMM host refused a malformed request${where}: ${issue?.message ?? 'not a request'} — this is a bug in the sender`);
    const error = toWireError(err, NO_FLAGS);
    // Answer the caller when its id is readable, so its call fails now instead of timing out.
    const id = typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'id') ? (raw as { id: unknown }).id : undefined;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 1) this.send({ type: 'reply', id, ok: false, error });
    else this.send({ type: 'refused', error });
  }
}
