// vendor.mjs — QuickJS 2021-03-27 sources, taken from the npm package qjsc@0.3.0
// (deps/quickjs_2021_03_27/). They are never copied into the repository: `npm pack` fetches the
// tarball into build/vendor/, its sha512 is checked against the pinned integrity, and the extracted
// copy is reused by later builds. An installed node_modules/qjsc@0.3.0 is used as is if present
// (npm checked its integrity when installing it).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GuestBuildError, log } from './log.mjs';
import { run } from './run.mjs';

export const QJSC_PACKAGE = 'qjsc@0.3.0';
export const QJSC_INTEGRITY = 'sha512-a7+cU6/IVcZbIejffdt/wZVMX6LL2MDL3HQ9Zb5Gm23G9DvBMS/z9GHFxz39bAvp2PvMOM+ypSOAyokt2DdZ2w==';
const SOURCE_DIR_IN_PACKAGE = 'deps/quickjs_2021_03_27';
const REQUIRED = ['quickjs.c', 'libregexp.c', 'libunicode.c', 'cutils.c', 'libbf.c', 'quickjs.h', 'VERSION'];

function complete(dir) {
  return REQUIRED.every((f) => existsSync(join(dir, f)));
}

function installedCopy(guestDir) {
  for (const base of [join(guestDir, 'node_modules'), join(guestDir, '..', 'node_modules')]) {
    const pkg = join(base, 'qjsc', 'package.json');
    if (!existsSync(pkg)) continue;
    try {
      if (JSON.parse(readFileSync(pkg, 'utf8')).version !== '0.3.0') continue;
    } catch {
      continue;
    }
    const dir = join(base, 'qjsc', SOURCE_DIR_IN_PACKAGE);
    if (complete(dir)) return dir;
  }
  return null;
}

function integrityOf(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Returns the directory holding quickjs.c & co., fetching and verifying them if needed. */
export async function ensureQuickjsSources(guestDir, buildDir) {
  const installed = installedCopy(guestDir);
  if (installed) return installed;

  const vendorDir = join(buildDir, 'vendor');
  const sourceDir = join(vendorDir, 'quickjs-2021-03-27');
  const stamp = join(sourceDir, '.fn-integrity');
  if (complete(sourceDir) && existsSync(stamp) && readFileSync(stamp, 'utf8') === QJSC_INTEGRITY) return sourceDir;

  mkdirSync(vendorDir, { recursive: true });
  const tarball = join(vendorDir, 'qjsc-0.3.0.tgz');
  if (!existsSync(tarball)) {
    log(`fetching ${QJSC_PACKAGE} with npm pack`);
    try {
      await run('npm', ['pack', QJSC_PACKAGE, '--pack-destination', vendorDir, '--silent'], { cwd: vendorDir });
    } catch (error) {
      throw new GuestBuildError(`could not fetch ${QJSC_PACKAGE} (npm pack): ${error.message}`, { cause: error });
    }
  }
  const actual = integrityOf(tarball);
  if (actual !== QJSC_INTEGRITY) {
    rmSync(tarball, { force: true }); // never reuse a tarball that failed the check
    throw new GuestBuildError(
      `${QJSC_PACKAGE} failed its integrity check: expected ${QJSC_INTEGRITY}, got ${actual}. ` +
        'The tarball was deleted; if the registry really serves different bytes, stop and investigate.',
    );
  }
  log(`extracting QuickJS sources from ${QJSC_PACKAGE}`);
  const staging = join(vendorDir, 'extract.tmp');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', staging, `package/${SOURCE_DIR_IN_PACKAGE}`]);
  rmSync(sourceDir, { recursive: true, force: true });
  renameSync(join(staging, 'package', SOURCE_DIR_IN_PACKAGE), sourceDir);
  rmSync(staging, { recursive: true, force: true });
  if (!complete(sourceDir)) throw new GuestBuildError(`${QJSC_PACKAGE} does not contain the expected QuickJS sources`);
  writeFileSync(stamp, QJSC_INTEGRITY);
  return sourceDir;
}
