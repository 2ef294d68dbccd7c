// prelude.mjs — build/prelude.js (made by scripts/bundle-prelude.mjs from src/prelude/, owned by
// the prelude's author) and its precompiled bytecode as a C array in build/gen/prelude_bc.c.

import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isNewer } from './incremental.mjs';
import { GuestBuildError, log } from './log.mjs';
import { run } from './run.mjs';

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Makes sure build/prelude.js exists and is current; returns its path. */
export async function ensurePrelude(guestDir, buildDir) {
  const out = join(buildDir, 'prelude.js');
  const bundler = join(guestDir, 'scripts', 'bundle-prelude.mjs');
  if (existsSync(bundler)) {
    const inputs = [bundler, ...filesUnder(join(guestDir, 'src', 'prelude'))];
    if (isNewer(out, inputs)) {
      log('bundling the prelude (scripts/bundle-prelude.mjs)');
      await run(process.execPath, [bundler, '--out', out], { cwd: guestDir });
      if (!existsSync(out)) throw new GuestBuildError(`scripts/bundle-prelude.mjs did not write ${out}`);
    }
    return out;
  }
  if (!existsSync(out)) {
    throw new GuestBuildError(
      'guest/scripts/bundle-prelude.mjs is missing and guest/build/prelude.js does not exist: ' + 'the guest cannot boot without its JavaScript prelude',
    );
  }
  log('using build/prelude.js as it is (scripts/bundle-prelude.mjs is not there yet)');
  return out;
}

/** Compiles prelude.js to bytecode in build/gen/prelude_bc.c with the prelude-compiler tool
 * (built from the guest's own engine objects) when either changed; returns the C file's path. */
export async function compilePrelude(preludePath, compilerPath, buildDir) {
  const genDir = join(buildDir, 'gen');
  const out = join(genDir, 'prelude_bc.c');
  if (!isNewer(out, [preludePath, compilerPath])) return out;
  log('compiling prelude.js to bytecode');
  mkdirSync(genDir, { recursive: true });
  await run(compilerPath, [preludePath, out]);
  return out;
}
