/**
 * Who may invoke which version is decided from the function's current settings, not from the
 * version's: making a function private closes every version of it, and making it public opens
 * every version (issue 13, hole 1: `@1` stayed public after v2 was deployed private, with the
 * current secrets).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, type Caller } from './caller.js';
import { NotFoundError } from './errors.js';
import type { Registry } from './registry.js';
import { deployInput, openWithTenants, tempDir } from './test-support/fixtures.js';

let cleanup: () => Promise<void>;
let registry: Registry;
let acme: Caller;
let globex: Caller;
beforeEach(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir());
  ({ registry, acme, globex } = openWithTenants(dir));
});
afterEach(async () => {
  registry.close();
  await cleanup();
});

const publicFlag = (value: boolean) => ({ config: { entry: 'index.js', public: value } });

describe('public access follows the function, not the version', () => {
  it('an old public version is closed once the function is deployed private', () => {
    registry.functions.createVersion(deployInput('globex', 'api', 'v1', publicFlag(true)));
    expect(registry.functions.resolveForInvocation(null, 'globex', 'api', 1).version).toBe(1);
    registry.functions.createVersion(deployInput('globex', 'api', 'v2', publicFlag(false)));
    registry.env.setSecret('globex', 'api', 'TOKEN', 'new-secret');
    for (const caller of [null, acme]) {
      for (const selector of [1, 2, 'live'] as const) {
        expect(() => registry.functions.resolveForInvocation(caller, 'globex', 'api', selector), `${caller ? 'acme' : 'no key'} @${selector}`).toThrow(
          NotFoundError,
        );
      }
    }
    // The owner and an admin still reach every version.
    expect(registry.functions.resolveForInvocation(globex, 'globex', 'api', 1).version).toBe(1);
    expect(registry.functions.resolveForInvocation(ADMIN, 'globex', 'api', 1).version).toBe(1);
  });

  it('an alias on an old public version is closed too', () => {
    registry.functions.createVersion(deployInput('globex', 'api', 'v1', publicFlag(true)));
    registry.functions.setAlias('globex', 'api', 'stable', 1);
    registry.functions.createVersion(deployInput('globex', 'api', 'v2', publicFlag(false)));
    expect(() => registry.functions.resolveForInvocation(null, 'globex', 'api', 'stable')).toThrow(NotFoundError);
  });

  it('a rollback to a public version makes the function public again', () => {
    registry.functions.createVersion(deployInput('globex', 'api', 'v1', publicFlag(true)));
    registry.functions.createVersion(deployInput('globex', 'api', 'v2', publicFlag(false)));
    expect(() => registry.functions.resolveForInvocation(null, 'globex', 'api')).toThrow(NotFoundError);
    registry.functions.rollback('globex', 'api', 1);
    expect(registry.functions.resolveForInvocation(null, 'globex', 'api').version).toBe(1);
    expect(registry.functions.resolveForInvocation(null, 'globex', 'api', 2).version).toBe(2);
  });

  it('a version deployed but not made live does not change who may invoke', () => {
    registry.functions.createVersion(deployInput('globex', 'api', 'v1', publicFlag(false)));
    registry.functions.createVersion({ ...deployInput('globex', 'api', 'v2', publicFlag(true)), setLive: false });
    expect(() => registry.functions.resolveForInvocation(null, 'globex', 'api', 2)).toThrow(NotFoundError);
  });
});
