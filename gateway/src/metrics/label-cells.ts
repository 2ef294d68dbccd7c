/**
 * One cell per label set, found through nested maps by the label values themselves: once a label
 * set has been seen, finding its cell allocates nothing (no key string, no labels object). The
 * invocation path counts into cells; prom-client reads them at scrape time (gateway-metrics.ts).
 */
export interface Cell {
  /** Made once, when the label set is first seen: what prom-client is given. */
  readonly labels: Readonly<Record<string, string>>;
  /** Counted since the last scrape. */
  pending: number;
}

export class LabelCells<C extends Cell = Cell> {
  private readonly root = new Map<string, unknown>();
  /** Every cell, for the scrape. */
  readonly all: C[] = [];

  constructor(
    private readonly names: readonly string[],
    private readonly make: (labels: Record<string, string>) => C = (labels) => ({ labels, pending: 0 }) as unknown as C,
  ) {
    if (names.length < 1 || names.length > 4) throw new RangeError('LabelCells takes one to four label names');
  }

  /** The cell of these label values (as many as there are names; the rest undefined). */
  at(a: string, b?: string, c?: string, d?: string): C {
    const depth = this.names.length;
    let level = this.root;
    for (let i = 0; i < depth - 1; i++) {
      const value = (i === 0 ? a : i === 1 ? b : c)!;
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const last = (depth === 1 ? a : depth === 2 ? b : depth === 3 ? c : d)!;
    let cell = level.get(last) as C | undefined;
    if (!cell) {
      const values = [a, b, c, d];
      cell = this.make(Object.fromEntries(this.names.map((n, i) => [n, values[i]!])));
      level.set(last, cell);
      this.all.push(cell);
    }
    return cell;
  }
}
