// Types for bundle-prelude.mjs (a plain ES module so build scripts can run it without a compiler).

/** The folder holding the prelude's ES modules and their entry, index.js (guest/src/prelude). */
export declare const PRELUDE_DIR: string;

/** The bundled prelude: one strict classic script (an esbuild IIFE) with no module syntax left. */
export declare function bundlePrelude(dir?: string): string;
