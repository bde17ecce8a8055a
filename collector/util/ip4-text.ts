/**
 * IPv4 texts, cached: the merge, detection and the query paths turn the same addresses into
 * text for every flow. One map per first octet keyed by the low 24 bits (small integers, no
 * allocation per lookup); the strings come back with their hash already computed. Bounded:
 * every map is emptied when they hold IP4_CACHE_MAX entries in all (~20 MB). Pure.
 */
const IP4_CACHE_MAX = 1 << 18
const ip4Cache: Map<number, string>[] = Array.from({ length: 256 }, () => new Map())
let ip4Cached = 0

/** "a.b.c.d" of four octets (0–255 each). */
export function ip4Text(a: number, b: number, c: number, d: number): string {
  const m = ip4Cache[a]!
  const k = (b << 16) | (c << 8) | d
  let s = m.get(k)
  if (s === undefined) {
    if (ip4Cached >= IP4_CACHE_MAX) { for (const x of ip4Cache) x.clear(); ip4Cached = 0 }
    s = `${a}.${b}.${c}.${d}`
    m.set(k, s)
    ip4Cached++
  }
  return s
}
