/**
 * /console: the web console's files (@fn/console, bundled by esbuild at `npm run build`) served as
 * they are. Three small files read once into memory; the page is a single page with hash routes, so
 * /console/ is index.html and nothing is rendered on the server. The files need no key: the page
 * asks for one and sends it as the Bearer header of its API calls, like the CLI.
 *
 * The Content-Security-Policy allows this origin's scripts, styles and API only: no inline script,
 * no other host, no framing. The key lives in the tab's sessionStorage, so a script injection is
 * what must not happen.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { Context } from 'hono';
import type { GatewayEnv } from '../context.js';
import { RouteNotFoundError } from '../errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Where `npm run build` puts the console: the dist folder of the @fn/console workspace. */
export function defaultConsoleDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@fn/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

interface File {
  body: Uint8Array;
  type: string;
}

/** A handler for GET /console/*; the files are read at the first request. */
export function consoleFiles(dir: string | undefined): (c: Context<GatewayEnv>) => Response {
  let files: Map<string, File> | undefined;
  const load = (): Map<string, File> => {
    if (files) return files;
    const found = new Map<string, File>();
    try {
      for (const name of readdirSync(dir ?? '')) {
        const type = TYPES[extname(name)];
        if (type) found.set(name, { body: readFileSync(join(dir!, name)), type });
      }
    } catch {
      // Not built: answered below, and read again at the next request (a build may have run since).
    }
    if (!found.has('index.html'))
      throw new RouteNotFoundError(`the web console is not built (no index.html in ${dir ?? '@fn/console/dist'}) — run \`npm run build\` in the repository`);
    files = found;
    return found;
  };
  return (c) => {
    const rest = c.req.path.replace(/^\/console\/?/, '');
    const file = load().get(rest === '' ? 'index.html' : rest);
    if (!file) throw new RouteNotFoundError(`the console has no file "${rest}" — open /console/`);
    return new Response(file.body, { headers: { 'content-type': file.type, ...SECURITY_HEADERS } });
  };
}
