/**
 * Stores a computed value in a bounded memo map and returns it: a map that holds `max`
 * entries is emptied first (no recency bookkeeping: the memos that use it — fingerprint
 * hashes, SSH negotiation answers, address normalisation — hit far more often than they
 * store, and their inputs recur per software build or host). Lookups stay at the call site:
 * `memo.get(key) ?? rememberBounded(memo, key, compute(key), MAX)`.
 */
export function rememberBounded<K, V>(memo: Map<K, V>, key: K, value: V, max: number): V {
  if (memo.size >= max) memo.clear()
  memo.set(key, value)
  return value
}
