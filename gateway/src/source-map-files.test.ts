// The gateway's source maps: kept per bundle digest on disk, read only when an invocation's output
// names a bundle line, pruned with the bundles, and never in the way of a record when damaged.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { SourceMapFiles } from './source-map-files.js';
import { toUserSource } from './source-mapping.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
// Generated line 1 ← src/a.ts line 1 col 1; generated line 2 ← src/a.ts line 3 col 3 ("AAEE").
const MAP = JSON.stringify({ version: 3, sources: ['src/a.ts'], mappings: 'AAAA;AAEE' });

let dir: string;
let maps: SourceMapFiles;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fn-srcmaps-'));
  maps = new SourceMapFiles(join(dir, 'source-maps'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('maps bundle lines in stacks and log lines to the user file, and leaves other text alone', async () => {
  maps.put(A, MAP);
  const [stack] = await toUserSource(maps, A, ['Error: x\n    at f (fn:function:2)\n    at g (fn:function:9)']);
  expect(stack).toBe('Error: x\n    at f (src/a.ts:3:3)\n    at g (fn:function:9)'); // line 9 has no mapping
  const lines = await toUserSource(maps, A, [
    { level: 'error', message: 'at h (fn:function:1)', ms: 1 },
    { level: 'log', message: 'plain', ms: 2 },
  ]);
  expect(lines).toEqual([
    { level: 'error', message: 'at h (src/a.ts:1:1)', ms: 1 },
    { level: 'log', message: 'plain', ms: 2 },
  ]);
});

it('reads nothing when no line names the bundle, and keeps the text when there is no map or it is damaged', async () => {
  const lines = vi.spyOn(maps, 'lines');
  const items = [{ level: 'log' as const, message: 'hello', ms: 0 }];
  expect(await toUserSource(maps, A, items)).toBe(items);
  expect(lines).not.toHaveBeenCalled();
  expect(await toUserSource(maps, B, ['at f (fn:function:1)'])).toEqual(['at f (fn:function:1)']); // no map for B
  writeFileSync(join(dir, 'source-maps', `${'b'.repeat(64)}.map`), '{ not json');
  expect(await toUserSource(maps, B, ['at f (fn:function:1)'])).toEqual(['at f (fn:function:1)']);
  expect(await toUserSource(undefined, A, ['at f (fn:function:1)'])).toEqual(['at f (fn:function:1)']);
});

it('a new map for the same bundle replaces the cached one', async () => {
  maps.put(A, MAP);
  expect((await maps.lines(A))?.get(1)?.source).toBe('src/a.ts');
  maps.put(A, JSON.stringify({ version: 3, sources: ['src/b.ts'], mappings: 'AAAA' }));
  expect((await maps.lines(A))?.get(1)?.source).toBe('src/b.ts');
});

it('prune keeps the maps of referenced bundles and removes the rest, leftovers of a crash included', () => {
  maps.put(A, MAP);
  maps.put(B, MAP);
  writeFileSync(join(dir, 'source-maps', `${'a'.repeat(64)}.map.123.tmp`), 'half');
  expect(maps.prune([A])).toBe(2);
  expect(readdirSync(join(dir, 'source-maps'))).toEqual([`${'a'.repeat(64)}.map`]);
});

it('refuses a name that is not a sha256 digest (no path outside its directory)', () => {
  expect(() => maps.put('sha256:../../etc/passwd', MAP)).toThrow(/not a sha256 digest/);
});
