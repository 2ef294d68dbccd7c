/**
 * Which script a VMM host process runs. Built, that is dist/vmm-host/host-main.js beside this
 * module. Run from TypeScript sources (vitest, or any caller importing src/), it is host-main.ts
 * with worker/dev/ts-register.mjs preloaded so Node can execute TypeScript in the child too
 * (Node 20 has no type stripping of its own).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface HostEntry {
  /** The module passed to child_process.fork. */
  script: string;
  /** Node options for the child (replace the parent's execArgv, which may carry test runners' flags). */
  execArgv: string[];
}

export function defaultHostEntry(): HostEntry {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const register = fileURLToPath(new URL('../../dev/ts-register.mjs', here));
    return { script: fileURLToPath(new URL('./host-main.ts', here)), execArgv: ['--import', pathToFileURL(register).href] };
  }
  const script = fileURLToPath(new URL('./host-main.js', here));
  if (!existsSync(script)) throw new Error(`the VMM host entry ${script} is missing — build the worker (npm run build)`);
  return { script, execArgv: [] };
}
