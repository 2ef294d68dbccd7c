// Module hooks for running fn's TypeScript sources in a child process during development and tests:
//  - resolve: "@fn/<pkg>" goes to <pkg>/src/index.ts when that exists (as vitest.config.ts aliases
//    it), and a "./x.js" import written in a .ts file goes to ./x.ts (NodeNext import style);
//  - load: a .ts file is transpiled with esbuild (types stripped only, no type checking).
// Each module keeps its real file URL, so paths computed from import.meta.url stay right.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from 'esbuild';

const root = new URL('../../', import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  const pkg = /^@fn\/([a-z0-9-]+)$/.exec(specifier);
  if (pkg) {
    const source = new URL(`${pkg[1]}/src/index.ts`, root);
    if (existsSync(source)) return { url: source.href, shortCircuit: true };
  }
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const asTs = new URL(specifier.replace(/\.js$/, '.ts'), parent);
    if (!existsSync(new URL(specifier, parent)) && existsSync(asTs)) return { url: asTs.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: pathToFileURL(path).href,
  });
  return { format: 'module', source: code, shortCircuit: true };
}
