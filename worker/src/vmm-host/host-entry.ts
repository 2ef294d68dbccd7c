/**
 * Which script a VMM host process runs: the built dist/vmm-host/host-main.js of this package,
 * whether this module runs built (dist/vmm-host/) or from sources under a test runner
 * (src/vmm-host/): both sit two folders below the package root. Tests therefore run the built
 * host, as production does (`npm test` builds first; after changing host code, run `npm run build`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface HostEntry {
  /** The module passed to child_process.fork. */
  script: string;
  /** Node options for the child (replace the parent's execArgv, which may carry test runners' flags). */
  execArgv: string[];
}

export function defaultHostEntry(): HostEntry {
  const script = fileURLToPath(new URL('../../dist/vmm-host/host-main.js', import.meta.url));
  if (!existsSync(script)) throw new Error(`the VMM host entry ${script} is missing — build the worker (npm run build)`);
  return { script, execArgv: [] };
}
