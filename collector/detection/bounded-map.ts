/**
 * A Map with a size bound: when full, inserting a new key evicts the least recently
 * touched one (Map iteration order; `touch` re-inserts). Evictions are counted — a
 * detector's state never grows past its configured `max_keys`.
 */
export class BoundedMap<K, V> {
  private readonly m = new Map<K, V>()
  evicted = 0

  constructor(readonly max: number, private readonly onEvict?: (k: K, v: V) => void) {}

  get size(): number { return this.m.size }

  get(k: K): V | undefined { return this.m.get(k) }

  /** Gets and marks as recently used. */
  touch(k: K): V | undefined {
    const v = this.m.get(k)
    if (v !== undefined) { this.m.delete(k); this.m.set(k, v) }
    return v
  }

  set(k: K, v: V): void {
    if (this.m.has(k)) this.m.delete(k)
    else if (this.m.size >= this.max) {
      const oldest = this.m.keys().next()
      if (!oldest.done) {
        const ov = this.m.get(oldest.value)!
        this.m.delete(oldest.value)
        this.evicted++
        this.onEvict?.(oldest.value, ov)
      }
    }
    this.m.set(k, v)
  }

  delete(k: K): boolean { return this.m.delete(k) }

  /** Oldest first. */
  entries(): IterableIterator<[K, V]> { return this.m.entries() }

  /** Deletes entries (oldest first) while `stale` holds, stopping at the first fresh one. */
  expireWhile(stale: (v: V) => boolean): void {
    for (const [k, v] of this.m) {
      if (!stale(v)) break
      this.m.delete(k)
    }
  }

  /** Deletes every entry for which `stale` holds (full walk). */
  sweep(stale: (v: V) => boolean): void {
    for (const [k, v] of this.m) if (stale(v)) this.m.delete(k)
  }
}
