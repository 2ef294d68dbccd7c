import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import type { Registry } from './registry.js';
import { deployInput, digest, openWithTenants, tempDir } from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let registry: Registry;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  ({ registry } = openWithTenants(dir));
});
afterEach(async () => {
  registry.close();
  await cleanup();
});

const deploy = (name: string, seed?: string) => registry.functions.createVersion(deployInput('acme', name, seed));

describe('versions', () => {
  it('numbers versions 1, 2, 3 per function and moves live to each', () => {
    expect([deploy('api', 'a').version, deploy('api', 'b').version, deploy('worker').version, deploy('api', 'c').version]).toEqual([1, 2, 1, 3]);
    expect(registry.functions.resolve('acme', 'api').version).toBe(3);
    const v2 = registry.functions.resolve('acme', 'api', 2);
    expect(v2).toMatchObject({ tenant: 'acme', function: 'api', version: 2, bundleDigest: digest('bundle:b'), snapshotDigest: digest('snapshot:b') });
    expect(v2.config).toEqual({ entry: 'index.js', memoryMiB: 128, timeoutMs: 3000, maxConcurrency: 10, public: false });
    expect(registry.functions.versions('acme', 'api').map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it('keeps live where it is when asked to', () => {
    deploy('api');
    const staged = registry.functions.createVersion({ ...deployInput('acme', 'api', 'staged'), setLive: false });
    expect(staged.version).toBe(2);
    expect(registry.functions.resolve('acme', 'api').version).toBe(1);
  });

  it('never reuses a version number after the function is deleted', () => {
    deploy('api');
    deploy('api');
    expect(registry.functions.delete('acme', 'api')).toEqual({ versions: 2 });
    expect(() => registry.functions.describe('acme', 'api')).toThrow(NotFoundError);
    expect(registry.functions.list('acme')).toEqual([]);
    expect(deploy('api').version).toBe(3);
    expect(registry.functions.versions('acme', 'api').map((v) => v.version)).toEqual([3]);
  });

  it('lists and describes the tenant functions', () => {
    deploy('b-fn');
    deploy('a-fn');
    deploy('a-fn');
    registry.functions.rollback('acme', 'a-fn');
    const list = registry.functions.list('acme');
    expect(list.map((f) => [f.name, f.latestVersion, f.liveVersion, f.public])).toEqual([
      ['a-fn', 2, 1, false],
      ['b-fn', 1, 1, false],
    ]);
    const described = registry.functions.describe('acme', 'a-fn');
    expect(described.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(described.aliases.map((a) => [a.name, a.version])).toEqual([['live', 1]]);
    expect(described.secrets).toEqual([]);
  });

  it('validates limits and names, naming the field', () => {
    const bad = (config: object) => () => registry.functions.createVersion({ ...deployInput('acme', 'api'), config: { entry: 'index.js', ...config } });
    expect(bad({ memoryMiB: 8 })).toThrow(/config.memoryMiB/);
    expect(bad({ memoryMiB: 2048 })).toThrow(ValidationError);
    expect(bad({ memoryMiB: 16 })).not.toThrow();
    expect(bad({ memoryMiB: 1024 })).not.toThrow();
    expect(bad({ timeoutMs: 900_001 })).toThrow(/config.timeoutMs/);
    expect(bad({ timeoutMs: 900_000 })).not.toThrow();
    expect(bad({ maxConcurrency: 0 })).toThrow(/config.maxConcurrency/);
    expect(bad({ public: 'yes' })).toThrow(ValidationError);
    expect(() => registry.functions.createVersion({ ...deployInput('acme', 'Bad_Name') })).toThrow(/version.name/);
    expect(() => registry.functions.createVersion({ ...deployInput('acme', 'api'), snapshotDigest: 'sha256:xyz' })).toThrow(/snapshotDigest/);
    expect(() => registry.functions.createVersion(deployInput('nobody', 'api'))).toThrow(NotFoundError);
  });
});

describe('aliases and rollback', () => {
  it('points aliases at existing versions only', () => {
    deploy('api', 'a');
    deploy('api', 'b');
    registry.functions.setAlias('acme', 'api', 'beta', 1);
    expect(registry.functions.resolve('acme', 'api', 'beta').version).toBe(1);
    expect(registry.functions.resolve('acme', 'api', '2').version).toBe(2);
    expect(() => registry.functions.setAlias('acme', 'api', 'beta', 7)).toThrow(NotFoundError);
    expect(() => registry.functions.setAlias('acme', 'api', '42', 1)).toThrow(ValidationError);
    expect(() => registry.functions.resolve('acme', 'api', 'nope')).toThrow(NotFoundError);
    expect(() => registry.functions.resolve('acme', 'api', 9)).toThrow(NotFoundError);
    registry.functions.deleteAlias('acme', 'api', 'beta');
    expect(() => registry.functions.resolve('acme', 'api', 'beta')).toThrow(NotFoundError);
    expect(() => registry.functions.deleteAlias('acme', 'api', 'live')).toThrow(ConflictError);
  });

  it('rolls live back to the previous version, or to a named one', () => {
    deploy('api', 'a');
    deploy('api', 'b');
    deploy('api', 'c');
    expect(registry.functions.rollback('acme', 'api')).toEqual({ from: 3, to: 2 });
    expect(registry.functions.rollback('acme', 'api')).toEqual({ from: 2, to: 1 });
    expect(() => registry.functions.rollback('acme', 'api')).toThrow(ConflictError);
    expect(registry.functions.rollback('acme', 'api', 3)).toEqual({ from: 1, to: 3 });
    expect(() => registry.functions.rollback('acme', 'api', 4)).toThrow(NotFoundError);
    expect(registry.functions.resolve('acme', 'api').snapshotDigest).toBe(digest('snapshot:c'));
  });

  it('rolls back across the gap a delete leaves', () => {
    deploy('api');
    registry.functions.delete('acme', 'api');
    deploy('api', 'x'); // version 2
    deploy('api', 'y'); // version 3
    expect(registry.functions.rollback('acme', 'api')).toEqual({ from: 3, to: 2 });
    expect(() => registry.functions.rollback('acme', 'api')).toThrow(/no version before 2/);
  });
});

describe('invocation resolution and snapshot references', () => {
  it('reports the snapshot digests of every stored version, and forgets deleted ones', () => {
    deploy('api', 'a');
    deploy('api', 'b');
    registry.functions.createVersion(deployInput('globex', 'api', 'g'));
    expect(registry.referencedSnapshotDigests()).toEqual(new Set([digest('snapshot:a'), digest('snapshot:b'), digest('snapshot:g')]));
    registry.functions.delete('acme', 'api');
    expect(registry.referencedSnapshotDigests()).toEqual(new Set([digest('snapshot:g')]));
    expect(registry.referencedBundleDigests()).toEqual(new Set([digest('bundle:g')]));
  });
});
