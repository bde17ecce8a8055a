/**
 * "At most once per key per window": repeated errors (the same agent sending the same bad
 * batch every second) are logged once per window with the number suppressed since. The
 * key table is bounded; when full, the oldest key is forgotten (its next error logs again).
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>()

  constructor(private readonly windowMs = 60_000, private readonly maxKeys = 10_000) {}

  /** Calls `log(suppressed)` when `key` was not logged within the window; else counts it. */
  hit(key: string, log: (suppressed: number) => void, now = Date.now()): boolean {
    const e = this.last.get(key)
    if (e !== undefined && now - e.at < this.windowMs) {
      e.suppressed++
      return false
    }
    const suppressed = e?.suppressed ?? 0
    this.last.delete(key)
    this.last.set(key, { at: now, suppressed: 0 })
    if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string)
    log(suppressed)
    return true
  }
}
