/**
 * Which stored batches a follower (topology merge, detection) has processed, by batch
 * number: every number up to `watermark`, plus the numbers in `above` (batches of several
 * agents finish storing out of their number order). Numbers that will never be stored (a
 * failed write, retention) are passed like processed ones.
 */
export class BatchMarks {
  watermark = 0
  readonly above = new Set<number>()

  has(n: number): boolean {
    return n <= this.watermark || this.above.has(n)
  }

  mark(n: number): void {
    if (this.has(n)) return
    if (n !== this.watermark + 1) { this.above.add(n); return }
    this.watermark = n
    while (this.above.delete(this.watermark + 1)) this.watermark++
  }

  /** Every number up to `n` (a new start point: nothing below it is owed). */
  markUpTo(n: number): void {
    if (n <= this.watermark) return
    this.watermark = n
    for (const a of this.above) if (a <= n) this.above.delete(a)
    while (this.above.delete(this.watermark + 1)) this.watermark++
  }

  /** Nothing processed (a rebuild starts again from the first stored batch). */
  reset(): void {
    this.watermark = 0
    this.above.clear()
  }

  /** The highest number marked (the watermark or the largest above it). */
  get highest(): number {
    let h = this.watermark
    for (const a of this.above) if (a > h) h = a
    return h
  }

  /** The marked numbers above the watermark, ascending. */
  aboveSorted(): number[] {
    return [...this.above].sort((a, b) => a - b)
  }

  toJSON(): { watermark: number; above: number[] } {
    return { watermark: this.watermark, above: this.aboveSorted() }
  }

  /** Restores toJSON's data; false (unchanged) when it is not that. */
  load(d: unknown): boolean {
    const v = d as { watermark?: unknown; above?: unknown } | null
    if (v === null || typeof v !== 'object' || !Number.isSafeInteger(v.watermark) || (v.watermark as number) < 0 || !Array.isArray(v.above)) return false
    this.watermark = v.watermark as number
    this.above.clear()
    for (const a of v.above) if (Number.isSafeInteger(a) && a > this.watermark) this.above.add(a as number)
    return true
  }
}
