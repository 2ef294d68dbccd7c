/**
 * Bundles a function with esbuild into one ES2020 module with its npm dependencies included: the
 * guest's QuickJS speaks ES2020 and has no module resolution, no Node built-ins, no file system.
 */
import { build, type Message } from 'esbuild';
import { nodeCompatInject, nodeCompatPlugin } from './node-compat.js';

export class BundleError extends Error {
  override name = 'BundleError';
}

export interface Bundle {
  code: string;
  /** esbuild's source map of `code` (sources relative to the current directory). */
  sourceMap?: string;
  bytes: number;
  ms: number;
}

export async function bundleFunction(entryPath: string): Promise<Bundle> {
  const started = performance.now();
  let result;
  try {
    result = await build({
      entryPoints: [entryPath],
      bundle: true,
      write: false,
      format: 'esm',
      target: 'es2020',
      // Web-standard builds of packages, never Node's: there is no Node inside the guest.
      platform: 'neutral',
      mainFields: ['browser', 'module', 'main'],
      conditions: ['worker', 'browser', 'import', 'default'],
      logLevel: 'silent',
      legalComments: 'none',
      // Node built-ins: a few from npm packages, the others refused with a reason (node-compat.ts).
      plugins: [nodeCompatPlugin()],
      inject: nodeCompatInject,
      define: { 'process.env.NODE_ENV': '"production"' },
      // A map to put error stacks back into the user's files (gateway/src/source-map.ts): never sent to the guest; fn deploy hands it to the gateway.
      sourcemap: 'external',
      sourcesContent: false,
      outfile: 'function.js',
      // Unicode-mode regex literals become `new RegExp(...)` calls, so the guest's RegExp can work
      // around a QuickJS 2021 parser bug (guest/src/prelude/regexp.js).
      supported: { 'regexp-sticky-and-unicode-flags': false },
    });
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new BundleError(`could not bundle ${entryPath}: ${where}${first?.text ?? (err as Error).message}`);
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!;
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'));
  // The file's last line names the map, which the guest has no use for.
  const code = js.text.replace(/\n\/\/# sourceMappingURL=function\.js\.map\n?$/, '\n');
  return { code, ...(map ? { sourceMap: map.text } : {}), bytes: Buffer.byteLength(code), ms: performance.now() - started };
}
