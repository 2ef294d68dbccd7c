/**
 * What an invocation reads from the registry (the caller behind a key, the version an alias
 * names, the decrypted secrets), kept in memory and dropped whole on any change to the database
 * (change-watch.ts), so a revoked key or a changed secret takes effect on the very next request.
 */
import type { ChangeWatch } from './change-watch.js';

export class ReadCache<V> {
  private readonly entries = new Map<string, V>();
  private seen: string | undefined;

  /** `max`: past this many entries the cache starts over (keys are bounded, not attacker-chosen). */
  constructor(
    private readonly watch: ChangeWatch,
    private readonly max = 10_000,
  ) {}

  /** The cached value, or load()'s. A throw, null or undefined is not cached: a miss stays a fresh lookup. */
  get<L extends V | null>(key: string, load: () => L): V | L {
    const generation = this.watch.generation();
    if (generation !== this.seen) {
      this.entries.clear();
      this.seen = generation;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = load();
    if (value === null || value === undefined) return value;
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, value);
    return value;
  }
}
