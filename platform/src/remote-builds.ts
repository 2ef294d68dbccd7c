/**
 * Deploys across machines: the gateway sends the bundle to a worker (deploy.build, one of the
 * `builders` queue group), which takes the snapshot and publishes it to the object store. So the
 * gateway needs no VM backend, and the snapshot is made by the same runtime build that restores it.
 */
import { BusTimeoutError, DeployBuild, NoRespondersError, RemoteError, type Bus, type BuildReply, type BuildRequest } from '@fn/scheduler';
import { UnavailableError } from '@fn/contract';

/** A deploy can boot a base snapshot first: seconds, not milliseconds. */
const BUILD_TIMEOUT_MS = 120_000;

/** No worker serves deploy.build: nothing can take the snapshot. */
export class NoBuilderError extends UnavailableError {
  override name = 'NoBuilderError';
}

/**
 * The worker's own error, under its own name: the gateway maps deploy errors by name (a bundle
 * that does not load, GuestLoadError, is the caller's 400).
 */
export class BuildFailedError extends Error {
  constructor(remote: RemoteError) {
    super(remote.message, { cause: remote });
    this.name = remote.remoteName;
  }
}

export function remoteBuilder(bus: Bus): { deploy(request: BuildRequest): Promise<BuildReply> } {
  return {
    deploy: async (request) => {
      try {
        return await bus.request(DeployBuild, request, { timeoutMs: BUILD_TIMEOUT_MS });
      } catch (err) {
        if (err instanceof NoRespondersError)
          throw new NoBuilderError('no worker is up to build the snapshot of this deploy — start a worker (fn up --role worker), then deploy again', {
            cause: err,
          });
        if (err instanceof BusTimeoutError)
          throw new NoBuilderError(`the worker building this deploy did not answer within ${BUILD_TIMEOUT_MS / 1000} s — deploy again`, { cause: err });
        if (err instanceof RemoteError) throw new BuildFailedError(err);
        throw err;
      }
    },
  };
}

/** The worker's side: builds one deploy at a time per request, as a member of the `builders` group. */
export async function serveBuilds(bus: Bus, build: (request: BuildRequest) => Promise<BuildReply>): Promise<{ close(): Promise<void> }> {
  const sub = await bus.serve(DeployBuild, (req) => build(req), { queue: 'builders' });
  return { close: () => sub.unsubscribe() };
}
