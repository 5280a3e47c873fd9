/**
 * A least-recently-used cache bounded by bytes (Map insertion order is the recency order).
 * lru-cache would do this too but is only a transitive dependency here; this is 30 lines.
 */
export class ByteLru<V> {
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    const size = this.sizeOf(value);
    if (size > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.total -= this.sizeOf(old);
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.total += size;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= this.sizeOf(entry);
    }
  }
}
