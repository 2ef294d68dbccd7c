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
  const code = result.outputFiles[0]!.text;
  return { code, bytes: Buffer.byteLength(code), ms: performance.now() - started };
}
