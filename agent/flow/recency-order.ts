/**
 * The order of connections by recency stamp (FlowTable: flush order, and the eviction list when
 * the table reaches its cap), least recent first, as a permutation of their indices.
 *
 * Sorting the connections with a comparator that read their stamps took ~1.4 s for 1M
 * connections (measured): a stall at shutdown, or in the packet path when a 1M table first
 * fills up. Here each stamp and its index are packed into one double — (stamp − min) × 2^k +
 * index, k bits for the index — and the doubles are sorted natively (numeric TypedArray sort).
 * When the stamps span too wide a range to pack exactly below 2^53, the indices are sorted by a
 * comparator over the stamps instead (same order, slower).
 */

/** `stamps`: distinct integers, 0 ≤ stamp < 2^53. Returns the indices ordered by ascending stamp. */
export function recencyOrder(stamps: Float64Array): Int32Array {
  const n = stamps.length
  const order = new Int32Array(n)
  if (n === 0) return order
  let min = stamps[0]!
  let max = min
  for (let i = 1; i < n; i++) {
    const s = stamps[i]!
    if (s < min) min = s
    if (s > max) max = s
  }
  let scale = 1
  while (scale < n) scale *= 2
  if ((max - min + 1) * scale <= Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(n)
    for (let i = 0; i < n; i++) keys[i] = (stamps[i]! - min) * scale + i
    keys.sort()
    // k − ⌊k / scale⌋ × scale: exact (scale is a power of two), without % on a double.
    for (let i = 0; i < n; i++) { const k = keys[i]!; order[i] = k - Math.floor(k / scale) * scale }
    return order
  }
  for (let i = 0; i < n; i++) order[i] = i
  return order.sort((a, b) => stamps[a]! - stamps[b]!)
}

/** `items` ordered by ascending stamp (distinct stamps: see recencyOrder). */
export function byStamp<T>(items: readonly T[], stampOf: (item: T) => number): T[] {
  const stamps = new Float64Array(items.length)
  for (let i = 0; i < items.length; i++) stamps[i] = stampOf(items[i]!)
  const order = recencyOrder(stamps)
  const out = new Array<T>(items.length)
  for (let i = 0; i < order.length; i++) out[i] = items[order[i]!]!
  return out
}
