/** Decoded flow segments, least recently used evicted first, bounded by the flows held. */
import { Batch, Flow } from '../../protocol/index.js'
import { ColumnCache } from './flow-columns.js'

export class SegmentCache {
  private readonly map = new Map<string, Flow[]>()
  /** Loads in progress: concurrent queries of one segment decode it once. */
  private readonly loading = new Map<string, Promise<Flow[] | undefined>>()
  private flows = 0
  hits = 0
  misses = 0

  /** The same segments as columns for aggregate queries (flow-columns.ts), as many flows again. */
  readonly columns: ColumnCache

  constructor(private readonly maxFlows = 300_000) {
    this.columns = new ColumnCache(maxFlows)
  }

  get(key: string, load: () => Promise<Buffer | undefined>): Promise<Flow[] | undefined> | Flow[] {
    const hit = this.map.get(key)
    if (hit !== undefined) {
      this.hits++
      this.map.delete(key)
      this.map.set(key, hit)
      return hit
    }
    const pending = this.loading.get(key)
    if (pending !== undefined) return pending
    this.misses++
    const p = load().then((bytes) => {
      if (bytes === undefined) return undefined
      const flows = Batch.decode(bytes).flows as Flow[]
      const old = this.map.get(key)
      if (old !== undefined) this.flows -= old.length
      this.map.set(key, flows)
      this.flows += flows.length
      while (this.flows > this.maxFlows && this.map.size > 1) {
        const [k, v] = this.map.entries().next().value as [string, Flow[]]
        this.map.delete(k)
        this.flows -= v.length
      }
      return flows
    }).finally(() => { this.loading.delete(key) })
    this.loading.set(key, p)
    return p
  }

  /** The decoded segment when cached (no load, no LRU update). */
  peek(key: string): Flow[] | undefined { return this.map.get(key) }

  clear(): void { this.map.clear(); this.flows = 0; this.columns.clear() }
}

/**
 * Decodes only the flows at `indexes` (ascending) of a segment: walks the length-delimited
 * `flows = 6` entries and decodes the wanted ones (an index query touching one flow of a
 * 5000-flow segment decodes one flow). Malformed bytes end the walk.
 */
export function decodeSelected(bytes: Uint8Array, indexes: readonly number[]): Map<number, Flow> {
  const out = new Map<number, Flow>()
  let pos = 0
  let i = 0
  let want = 0
  while (pos < bytes.length && want < indexes.length) {
    if (bytes[pos] !== 0x32) break
    pos++
    let len = 0
    let shift = 0
    let b: number
    do {
      if (pos >= bytes.length || shift > 28) return out
      b = bytes[pos++]!
      len += (b & 0x7f) * 2 ** shift
      shift += 7
    } while (b & 0x80)
    if (pos + len > bytes.length) return out
    if (indexes[want] === i) {
      try { out.set(i, Flow.decode(bytes.subarray(pos, pos + len))) } catch { /* skipped: stored bytes were checked at ingest */ }
      want++
    }
    pos += len
    i++
  }
  return out
}
