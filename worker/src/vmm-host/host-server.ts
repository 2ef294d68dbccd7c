/**
 * The VMM host's side of the protocol: a VmHolder behind the IPC channel. Every request is
 * validated before it is acted on (the channel is a process boundary); a request that does not
 * parse is refused with a VmmHostProtocolError and changes nothing. Transport-free (it gets a
 * `send` function) so host-main.ts only wires it to the IPC channel.
 */
import type { VmResult } from '@fn/contract';
import { lockdownProbe, type HostLockdown } from '@fn/vmm';
import { VmLostError, VmmHostProtocolError } from '../errors.js';
import { HostRequestSchema, type HostMessage, type HostRequest } from './protocol.js';
import { VmHolder } from './vm-holder.js';
import { buildSnapshot } from './snapshot-build.js';
import { logHostInvocation } from './host-log.js';
import { rootLogger, type Logger } from '@fn/telemetry';
import { toWireError } from './wire-errors.js';

type Reply = Extract<HostMessage, { type: 'reply' }>;
const NO_FLAGS = { vmClosed: false, notStarted: false };

export class VmmHostServer {
  private readonly holder: VmHolder;
  /** What the host's lockdown put in force (host-main.ts), reported by stats. */
  lockdown: (HostLockdown & { landlockAbi: number }) | undefined;
  /** A deploy host (host-main.ts, FN_VMM_HOST_LOCKDOWN allowFileWrites): serves 'build'. */
  builds = false;
  /** Builds in progress by their scratch directory, to cancel them. */
  private readonly building = new Map<string, AbortController>();

  constructor(
    private readonly send: (message: HostMessage) => void,
    private readonly log: Logger = rootLogger(),
  ) {
    this.holder = new VmHolder({
      ready: (vmId, resetMs) => this.send({ type: 'vm-ready', vmId, resetMs }),
      lost: (vmId, reason) => this.send({ type: 'vm-lost', vmId, reason }),
    });
  }

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
        if (request.op === 'invoke') {
          const ms = performance.now() - received;
          if (reply.ok) (reply.result as VmResult).timings.host = ms;
          logHostInvocation(this.log, request.vmId, request.request, ms, reply.ok ? undefined : reply.error.message);
        }
        this.send(reply);
      },
      (err: unknown) => this.send({ type: 'reply', id: request.id, ok: false, error: toWireError(err, NO_FLAGS) }),
    );
  }

  /** Closes every VM (the worker went away, or asked the host to stop). */
  closeAll(): void {
    for (const build of this.building.values()) build.abort();
    this.holder.closeAll();
  }

  private async dispatch(request: HostRequest): Promise<Reply> {
    const ok = (result: unknown): Reply => ({ type: 'reply', id: request.id, ok: true, result });
    switch (request.op) {
      case 'restore':
        return ok(await this.holder.restore(request.snapshot, request.timeoutMs));
      case 'invoke':
        try {
          return ok(await this.holder.invoke(request.vmId, request.request));
        } catch (err) {
          const flags = { vmClosed: !this.holder.has(request.vmId), notStarted: err instanceof VmLostError };
          return { type: 'reply', id: request.id, ok: false, error: toWireError(err, flags) };
        }
      case 'close':
        return ok({ closed: this.holder.close(request.vmId) });
      case 'stats':
        return ok({ ...this.holder.stats(), ...(this.lockdown ? { lockdown: this.lockdown } : {}) });
      case 'build': {
        if (!this.builds) throw new VmmHostProtocolError('this VMM host holds invocation VMs and does not build snapshots — send deploys to the deploy host');
        const cancel = new AbortController();
        this.building.set(request.scratch, cancel);
        try {
          const { base, bundle, name, env, initTimeoutMs, scratch } = request;
          return ok(await buildSnapshot({ base, bundle, name, env, initTimeoutMs, scratch }, cancel.signal));
        } finally {
          this.building.delete(request.scratch);
        }
      }
      case 'cancel': {
        const build = this.building.get(request.scratch);
        build?.abort();
        return ok({ cancelled: build !== undefined });
      }
      case 'probe':
        if (process.env.FN_VMM_TEST_HOOKS !== '1')
          throw new VmmHostProtocolError('the probe op is for tests only: this host was not started with FN_VMM_TEST_HOOKS=1');
        return ok({ outcome: lockdownProbe(request.what, request.path) });
    }
  }

  private refuse(raw: unknown, issue: { path: PropertyKey[]; message: string } | undefined): void {
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
    const err = new VmmHostProtocolError(
      `the VMM host refused a malformed request${where}: ${issue?.message ?? 'not a request'} — this is a bug in the sender`,
    );
    const error = toWireError(err, NO_FLAGS);
    // Answer the caller when its id is readable, so its call fails now instead of timing out.
    const id = typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'id') ? (raw as { id: unknown }).id : undefined;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 1) this.send({ type: 'reply', id, ok: false, error });
    else this.send({ type: 'refused', error });
  }
}
