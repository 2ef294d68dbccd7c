/**
 * A separate OS process using the registry, for the multi-process tests (bundled by esbuild in
 * children.ts). Prints one JSON line with its results.
 *
 *   child.js deploy <dataDir> <tenant> <function> <count>     deploys count versions, appends a log each
 *   child.js first-start <dataDir>                             opens a fresh directory, ensureAdminKey()
 *   child.js write-forever <dataDir> <tenant>                  deploys until killed (crash test)
 */
import { Registry } from '../registry.js';
import { deployInput } from './fixtures.js';

const [command, dataDir, tenant, name, count] = process.argv.slice(2);

function main(): unknown {
  if (command === 'first-start') {
    const registry = Registry.open(dataDir!);
    const key = registry.keys.ensureAdminKey();
    registry.close();
    return { created: key !== null };
  }
  const registry = Registry.open(dataDir!, { busyTimeoutMs: 30_000 });
  if (command === 'deploy') {
    const versions: number[] = [];
    const logIds: number[] = [];
    for (let i = 0; i < Number(count); i++) {
      const v = registry.functions.createVersion(deployInput(tenant!, name!, `${process.pid}-${i}`));
      versions.push(v.version);
      const [log] = registry.logs.append({
        tenant: tenant!,
        function: name!,
        version: v.version,
        invocationId: `${process.pid}-${i}`,
        status: 'ok',
        durationMs: 1,
        cold: false,
      });
      logIds.push(log!.id);
    }
    registry.close();
    return { versions, logIds };
  }
  if (command === 'write-forever') {
    for (let i = 0; ; i++) {
      registry.functions.createVersion(deployInput(tenant!, `crash-${i % 5}`, `crash-${i}`));
      registry.logs.append({
        tenant: tenant!,
        function: `crash-${i % 5}`,
        version: 1,
        invocationId: `c-${i}`,
        status: 'ok',
        durationMs: 1,
        cold: true,
        logs: [{ level: 'log', message: 'x'.repeat(2000), ms: 0 }],
      });
      if (i === 0) process.stdout.write('ready\n'); // something is committed: the test may kill us from now on
    }
  }
  throw new Error(`unknown command ${command}`);
}

process.stdout.write(`${JSON.stringify(main())}\n`);
