/**
 * Cross-agent flow de-duplication by Community ID (pure, bounded).
 *
 * The same connection seen by two agents (host agent + SPAN, two SPAN ports) has the same
 * Community ID and start times within a small window (clock skew, capture latency). The
 * first record seen creates an entry holding what it contributed to the topology; a record
 * of another agent matching (same Community ID, |Δts| ≤ window) is the same flow: it is not
 * counted again, and when its view is better (no loss around it, fewer missed bytes, more
 * packets) it replaces the contribution. A later record of the SAME agent with the same
 * start time is an update of that flow (interim → final) and replaces it too.
 *
 * Bounded: at most `maxEntries` entries, the oldest inserted evicted first (counted).
 */

export interface Contribution {
  agentId: string
  tsUs: number
  edgeId: string
  src: string
  dst: string
  bytesOut: number
  bytesIn: number
  packets: number
  missedBytes: number
  degraded: boolean
  /** Every agent that reported this flow; undefined while only `agentId` has (most flows). */
  observers: string[] | undefined
  /** Roll-up dimensions the flow was counted under. */
  dims: string[]
}

/** Negative when `a` is the better view of the flow than `b`. */
export function compareViews(a: Pick<Contribution, 'degraded' | 'missedBytes' | 'packets'>, b: Pick<Contribution, 'degraded' | 'missedBytes' | 'packets'>): number {
  if (a.degraded !== b.degraded) return a.degraded ? 1 : -1
  if (a.missedBytes !== b.missedBytes) return a.missedBytes - b.missedBytes
  return b.packets - a.packets
}

export class FlowDedup {
  /**
   * Community ID key → its entry, or its entries (oldest first) when several flows share it.
   * One entry is kept bare, not in a one-element array: this map holds an entry for each of
   * the last `maxEntries` flows (500k by default), so an array each was that many more
   * long-lived objects for the garbage collector to copy and mark.
   */
  private readonly byCid = new Map<string, Contribution | Contribution[]>()
  private readonly ring: (string | undefined)[]
  private head = 0
  private size = 0
  evicted = 0

  constructor(readonly windowUs: number, readonly maxEntries: number) {
    this.ring = new Array<string | undefined>(Math.max(1, maxEntries))
  }

  get entries(): number { return this.size }

  /** The entry of the same flow: same Community ID and start within the window. */
  find(cid: string, tsUs: number): Contribution | undefined {
    const list = this.byCid.get(cid)
    if (list === undefined) return undefined
    if (!Array.isArray(list)) return Math.abs(list.tsUs - tsUs) <= this.windowUs ? list : undefined
    let best: Contribution | undefined
    let bestD = Infinity
    for (const c of list) {
      const d = Math.abs(c.tsUs - tsUs)
      if (d <= this.windowUs && d < bestD) { best = c; bestD = d }
    }
    return best
  }

  add(cid: string, c: Contribution): void {
    if (this.size === this.ring.length) this.evictOldest()
    const cur = this.byCid.get(cid)
    if (cur === undefined) this.byCid.set(cid, c)
    else if (Array.isArray(cur)) cur.push(c)
    else this.byCid.set(cid, [cur, c])
    this.ring[(this.head + this.size) % this.ring.length] = cid
    this.size++
  }

  private evictOldest(): void {
    const cid = this.ring[this.head]
    this.ring[this.head] = undefined
    this.head = (this.head + 1) % this.ring.length
    this.size--
    this.evicted++
    if (cid === undefined) return
    const list = this.byCid.get(cid)
    if (list === undefined) return
    if (!Array.isArray(list)) { this.byCid.delete(cid); return }
    list.shift()
    if (list.length === 1) this.byCid.set(cid, list[0]!)
    else if (list.length === 0) this.byCid.delete(cid)
  }

  clear(): void {
    this.byCid.clear()
    this.ring.fill(undefined)
    this.head = 0
    this.size = 0
  }
}
