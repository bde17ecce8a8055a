/**
 * A Map with a size bound: when full, inserting a new key evicts the oldest inserted one
 * (Map iteration order). Evictions are counted — a detector's state never grows past its
 * configured `max_keys`.
 */
export class BoundedMap<K, V> {
  private readonly m = new Map<K, V>()
  evicted = 0

  constructor(readonly max: number, private readonly onEvict?: (k: K, v: V) => void) {}

  get size(): number { return this.m.size }

  get(k: K): V | undefined { return this.m.get(k) }

  /**
   * Gets an entry. Not re-ordered (a Map delete + set per access costs more than the rest
   * of most detectors): eviction and expiry are in insertion order, which is first-seen
   * order — an old key that is still active can be evicted before a newer idle one.
   */
  touch(k: K): V | undefined {
    return this.m.get(k)
  }

  set(k: K, v: V): void {
    if (this.m.has(k)) this.m.delete(k)
    else if (this.m.size >= this.max) this.evictOldest()
    this.m.set(k, v)
  }

  /**
   * Evicts the oldest tenth in one pass. (Evicting one key per insert would restart a Map
   * iterator each time, and V8 iterators skip the deleted slots at the front of the table
   * until it is rehashed — quadratic under steady eviction.)
   */
  private evictOldest(): void {
    let n = Math.max(1, Math.ceil(this.max / 10))
    for (const [k, v] of this.m) {
      this.m.delete(k)
      this.evicted++
      this.onEvict?.(k, v)
      if (--n === 0) break
    }
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
