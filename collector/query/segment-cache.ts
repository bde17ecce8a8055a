/** Decoded flow segments, least recently used evicted first, bounded by the flows held. */
import { Batch, type Flow } from '../../protocol/index.js'

export class SegmentCache {
  private readonly map = new Map<string, Flow[]>()
  /** Loads in progress: concurrent queries of one segment decode it once. */
  private readonly loading = new Map<string, Promise<Flow[] | undefined>>()
  private flows = 0
  hits = 0
  misses = 0

  constructor(private readonly maxFlows = 300_000) {}

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

  clear(): void { this.map.clear(); this.flows = 0 }
}
