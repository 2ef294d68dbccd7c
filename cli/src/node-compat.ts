/**
 * The Node compatibility layer, applied at bundle time (like Workers' nodejs_compat): the guest has
 * no Node, so the Node built-ins that make sense without an OS come from well-kept npm packages
 * bundled into the function, and every other one stops the bundle with a message that says what
 * fn offers instead.
 *
 *   node:buffer  → npm `buffer`           node:events → npm `events`
 *   node:util    → npm `util`             node:path   → npm `path-browserify`
 *   node:process → ./node-compat/process.js (env of the current invocation, nextTick)
 *
 * `process` and `Buffer` used as free globals are injected from the same modules.
 *
 * A `require()` of another built-in inside node_modules does not stop the bundle: packages often
 * require one on a Node-only path they never take elsewhere (papaparse's `stream`). It becomes a
 * module that throws the same message when it is loaded, so the package works until that path runs.
 */
import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const require = createRequire(import.meta.url);
const shimDir = fileURLToPath(new URL('../node-compat/', import.meta.url));

const PROVIDED: Record<string, () => string> = {
  buffer: () => require.resolve('buffer/'),
  events: () => require.resolve('events/'),
  util: () => require.resolve('util/'),
  path: () => require.resolve('path-browserify'),
  'path/posix': () => require.resolve('path-browserify'),
  process: () => `${shimDir}process.js`,
};

/** What fn offers instead of a built-in it cannot provide. */
const INSTEAD: Record<string, string> = {
  fs: 'there is no file system in a function: bundle data with `import data from "./file.json"` or keep it in a store reached over fetch()',
  'fs/promises': 'there is no file system in a function: bundle data with `import data from "./file.json"` or keep it in a store reached over fetch()',
  net: 'there are no sockets in a function: use fetch()',
  tls: 'there are no sockets in a function: use fetch()',
  dgram: 'there are no sockets in a function: use fetch()',
  http: 'a function answers HTTP through its fetch() handler and calls out with fetch()',
  https: 'a function answers HTTP through its fetch() handler and calls out with fetch()',
  http2: 'a function answers HTTP through its fetch() handler and calls out with fetch()',
  child_process: 'a function cannot start processes',
  worker_threads: 'a function runs on one thread',
  cluster: 'a function runs on one thread',
  os: 'a function has no OS: its limits are in fn.json',
  crypto: 'use the Web Crypto API: globalThis.crypto (getRandomValues, randomUUID, subtle)',
  stream: 'use Web streams (ReadableStream) and Response bodies',
  url: 'use the global URL and URLSearchParams',
  string_decoder: 'use the global TextDecoder',
  timers: 'use the global setTimeout / setInterval / queueMicrotask',
  assert: 'throw an Error yourself, or bundle an assertion package from npm',
};

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));

function builtinName(path: string): string | null {
  const name = path.startsWith('node:') ? path.slice('node:'.length) : path;
  return BUILTINS.has(name) || path.startsWith('node:') ? name : null;
}

function installedPackage(name: string, fromDir: string): boolean {
  try {
    createRequire(`${fromDir}/`).resolve(`${name}/`);
    return true;
  } catch {
    return false;
  }
}

export function unsupportedMessage(name: string): string {
  const provided = Object.keys(PROVIDED)
    .filter((n) => !n.includes('/'))
    .map((n) => `node:${n}`)
    .join(', ');
  const instead = INSTEAD[name] ?? 'it needs an operating system the guest does not have';
  return `node:${name} is not available in fn functions (${instead}); fn provides ${provided}`;
}

export function nodeCompatPlugin(): Plugin {
  return {
    name: 'fn-node-compat',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (args) => {
        const name = builtinName(args.path);
        if (name === null) return undefined;
        const provide = PROVIDED[name];
        if (provide) return { path: provide() };
        // A bare name that is also an installed npm package (punycode, string_decoder): the package.
        if (!args.path.startsWith('node:') && installedPackage(name, args.resolveDir)) return undefined;
        if (args.kind === 'require-call' && args.importer.includes('/node_modules/')) {
          return { path: name, namespace: 'fn-node-unavailable' };
        }
        return { errors: [{ text: unsupportedMessage(name) }] };
      });
      build.onLoad({ filter: /.*/, namespace: 'fn-node-unavailable' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(unsupportedMessage(args.path))});`,
        loader: 'js',
      }));
    },
  };
}

/** Modules whose exports replace the free globals `process` and `Buffer` (esbuild's inject). */
export const nodeCompatInject = [`${shimDir}process.js`];
