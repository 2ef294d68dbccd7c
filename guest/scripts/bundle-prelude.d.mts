// Types for bundle-prelude.mjs (a plain ES module so build scripts can run it without a compiler).

/** The folder holding the NN-name.js prelude parts (guest/src/prelude). */
export declare const PRELUDE_DIR: string;

/** The prelude parts in bundling order (NN-name.js files, sorted by name). */
export declare function preludeFiles(dir?: string): string[];

/** The bundled prelude: one classic script, `(function () { "use strict"; ...parts... })();`. */
export declare function bundlePrelude(dir?: string): string;
