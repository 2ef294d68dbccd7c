/**
 * A deploy: bundle + config → the deployer builds a snapshot → the registry records version N and
 * moves `live` to it. The registry is written last, so a failed build leaves no version behind.
 *
 * Env vars and secrets are NOT baked into the snapshot: they travel with every invocation (see
 * routes/invoke.ts), so secrets never sit in snapshot memory files and an env change reaches the
 * function at once. An omitted config.env keeps the live version's env vars, like Lambda's
 * update-function-code, so redeploying code does not wipe env set with PUT /env; the live env is
 * read when the version is recorded, not when the deploy starts, so a PUT /env that lands while the
 * deploy builds is kept (issue 13, hole 2).
 */
import { ConflictError, NotFoundError, type Authenticated, type RegistryApi as Registry, type VersionRecord } from '@fn/registry';
import type { z } from 'zod';
import { withDeadline } from './deadline.js';
import type { DeploySlots } from './deploy-slots.js';
import type { Deployer } from './deps.js';
import { BadRequestError } from './errors.js';
import type { DeployBody } from './schemas.js';
import type { SourceMaps } from './source-map-files.js';
import { parseSourceMap } from './source-map.js';

export async function deploy(
  deps: { registry: Registry; deployer: Deployer; deployTimeoutMs: number; slots: DeploySlots; sourceMaps?: SourceMaps | undefined },
  caller: Authenticated,
  tenant: string,
  body: z.output<typeof DeployBody>,
  /** Aborted when the client goes away: the build is cancelled, its VM stopped. */
  clientGone?: AbortSignal,
): Promise<VersionRecord> {
  const { registry } = deps;
  // Before the (slow) build: the tenant must exist and the caller may act for it.
  registry.tenants.get(caller, tenant);
  if (body.sourceMap !== undefined) checkSourceMap(body.sourceMap);
  const release = deps.slots.take(tenant);
  try {
    return await build(deps, tenant, body, clientGone);
  } finally {
    release();
  }
}

async function build(
  deps: { registry: Registry; deployer: Deployer; deployTimeoutMs: number; sourceMaps?: SourceMaps | undefined },
  tenant: string,
  body: z.output<typeof DeployBody>,
  clientGone: AbortSignal | undefined,
): Promise<VersionRecord> {
  const { registry } = deps;
  const { env: requestedEnv, ...config } = body.config;
  const { sourceMap } = body;
  const existing = current(registry, tenant, body.name);
  const env = requestedEnv ?? existing?.env ?? {};
  const secrets = existing ? registry.env.secretsForInvocation(tenant, body.name) : {};
  // The registry refuses this too, but only after a build that would have been wasted.
  const clash = Object.keys(secrets).filter((name) => Object.hasOwn(env, name));
  if (clash.length > 0) throw new ConflictError(`${clash.join(', ')}: already a secret of "${body.name}" — rename the env var or unset the secret`);
  const built = await withDeadline(`the deploy of "${body.name}"`, deps.deployTimeoutMs, (expired) =>
    deps.deployer.deploy(
      { tenant, name: body.name, bundle: body.bundle, config: { ...config, env: {} } },
      clientGone ? AbortSignal.any([expired, clientGone]) : expired,
    ),
  );
  // In the same synchronous step as createVersion: the collector's prune (also synchronous) sees
  // either both or neither, so it never drops the map of a version being recorded.
  if (sourceMap !== undefined) deps.sourceMaps?.put(built.bundleDigest, sourceMap);
  // A client that left after the build finished still gets its version recorded: its bytes are
  // stored by now, and a version nobody references would only be left for the gc.
  // Without an explicit env the registry takes the live version's env when it records this one, in
  // the same transaction: an env change made while this deploy was building is kept, not overwritten.
  const envChoice = requestedEnv === undefined ? { keepLiveEnv: true } : { env: requestedEnv };
  return registry.functions.createVersion({
    tenant,
    name: body.name,
    bundleDigest: built.bundleDigest,
    snapshotDigest: built.snapshotDigest,
    config,
    ...envChoice,
  });
}

/** The version `live` points at, or undefined for a new function (or one with no live alias). */
function current(registry: Registry, tenant: string, name: string): VersionRecord | undefined {
  try {
    return registry.functions.resolve(tenant, name, 'live');
  } catch (error) {
    if (error instanceof NotFoundError || (error as Error).name === 'NotFoundError') return undefined;
    throw error;
  }
}

/** A map that cannot be read is refused before the (slow) build, not found out at the first error. */
function checkSourceMap(sourceMap: string): void {
  try {
    parseSourceMap(sourceMap);
  } catch (error) {
    throw new BadRequestError(`sourceMap: not a source map (${(error as Error).message}) — send esbuild's .js.map text, or leave sourceMap out`);
  }
}
