/**
 * The source maps of deployed bundles, kept by the gateway beside its registry
 * (`<dataDir>/source-maps/<bundle sha256>.map`) so that an invocation's error stack and console
 * output can be put back into the user's files before the log record is written and the error
 * answered. The gateway keeps them, not the snapshot store: the gateway is where records are
 * written, and when fn runs as separate processes the gateway has no snapshot store.
 *
 * Maps are read only when an invocation's output names a bundle position (`fn:function:N`), and
 * the parsed line tables of the last few bundles stay in memory.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSourceMap, type LineMapping } from './source-map.js';

export type LineTable = Map<number, LineMapping>;

/** What the gateway needs of a source map store (deps.ts); SourceMapFiles is the one on disk. */
export interface SourceMaps {
  /** Keeps the (already parsed once) map of the bundle with this digest; replaces an older one. */
  put(bundleDigest: string, sourceMap: string): void;
  /** The bundle's line table, or undefined when its deploy sent no map. */
  lines(bundleDigest: string): Promise<LineTable | undefined>;
  /** Removes the maps of bundles not in `keep` (the bundles the registry still references). */
  prune(keep: Iterable<string>): number;
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;

export class SourceMapFiles implements SourceMaps {
  private readonly cache = new Map<string, Promise<LineTable | undefined>>();

  constructor(
    private readonly dir: string,
    private readonly maxCached = 32,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  put(bundleDigest: string, sourceMap: string): void {
    const path = this.path(bundleDigest);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, sourceMap, { mode: 0o600 });
    renameSync(temp, path);
    this.cache.delete(bundleDigest);
  }

  lines(bundleDigest: string): Promise<LineTable | undefined> {
    let table = this.cache.get(bundleDigest);
    if (table) {
      // Most recently used last: Map keeps insertion order, so the first key is the one to drop.
      this.cache.delete(bundleDigest);
    } else {
      table = this.load(bundleDigest);
      if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(bundleDigest, table);
    return table;
  }

  prune(keep: Iterable<string>): number {
    const kept = new Set([...keep].map((d) => DIGEST.exec(d)?.[1]).filter(Boolean));
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      const hex = /^([0-9a-f]{64})\.map$/.exec(name)?.[1];
      if (hex && kept.has(hex)) continue;
      rmSync(join(this.dir, name), { force: true }); // a map of a deleted bundle, or a temp file a crash left
      this.cache.delete(`sha256:${hex}`);
      removed += 1;
    }
    return removed;
  }

  private async load(bundleDigest: string): Promise<LineTable | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(bundleDigest), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return parseSourceMap(text);
  }

  private path(bundleDigest: string): string {
    const hex = DIGEST.exec(bundleDigest)?.[1];
    if (!hex) throw new Error(`source maps: ${JSON.stringify(bundleDigest)} is not a sha256 digest`);
    return join(this.dir, `${hex}.map`);
  }
}
