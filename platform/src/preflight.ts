/**
 * What is checked before anything is started, so that a start that cannot succeed fails at once
 * with one clear message and leaves nothing running: the guest build is there, and the data
 * directory can be written.
 */
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestElfPath } from '@fn/guest';
import { nativeAddonPath, ptraceVmmPath } from '@fn/vmm';
import { defaultHostEntry } from '@fn/worker';
import { PlatformStartError } from './errors.js';

/** The files a backend needs, built by `npm run build`. */
export function buildFilesFor(platform: 'kvm' | 'ptrace'): string[] {
  let host: string;
  try {
    host = defaultHostEntry().script;
  } catch {
    host = 'worker/dist/vmm-host/host-main.js';
  }
  return platform === 'kvm' ? [guestElfPath, nativeAddonPath, host] : [guestElfPath, ptraceVmmPath, host];
}

export function checkBuild(files: string[]): void {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new PlatformStartError(
      `fn is not built: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing — run \`npm run build\` in the repository first`,
    );
  }
}

/** Creates the data directory if needed and proves it can be written (a probe file, then gone). */
export function checkDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.W_OK);
    const probe = join(dataDir, `.fn-write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new PlatformStartError(
      `the data directory ${dataDir} cannot be written (${code}) — fix its permissions, or choose another with --data DIR (or FN_DATA)`,
      { cause },
    );
  }
}
