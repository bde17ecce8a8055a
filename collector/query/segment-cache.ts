/** Decoded flow segments, least recently used evicted first, bounded by the flows held. */
import { Batch, type Flow } from '../../protocol/index.js'

export class SegmentCache {
  private readonly map = new Map<string, Flow[]>()
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
    this.misses++
    return load().then((bytes) => {
      if (bytes === undefined) return undefined
      const flows = Batch.decode(bytes).flows as Flow[]
      this.map.set(key, flows)
      this.flows += flows.length
      while (this.flows > this.maxFlows && this.map.size > 1) {
        const [k, v] = this.map.entries().next().value as [string, Flow[]]
        this.map.delete(k)
        this.flows -= v.length
      }
      return flows
    })
  }

  clear(): void { this.map.clear(); this.flows = 0 }
}
