/**
 * Decoded flow segments as columns for aggregate queries (/flows/top): per flow its time,
 * IP bytes, packets, responder port and transport, and the address and service texts as
 * ids into one table shared by every cached segment (ColumnCache.names). Built once per
 * segment from the decoded flows (texts computed and interned once, not per query), kept in
 * a bounded LRU; a top-N over a window is then a loop over typed arrays that adds into
 * arrays indexed by text id — no per-flow string, no per-key object.
 */
import type { Flow } from '../../protocol/index.js'
import { ipText } from '../topology/addresses.js'

export interface FlowColumns {
  count: number
  ts: Float64Array
  /** orig_ip_bytes + resp_ip_bytes */
  bytes: Float64Array
  /** orig_pkts + resp_pkts */
  packets: Float64Array
  /** Text ids (ColumnCache.names) of orig_h, resp_h and service. */
  orig: Int32Array
  resp: Int32Array
  service: Int32Array
  respPort: Uint16Array
  transport: Uint8Array
}

/** Texts interned at most before the table and the cached columns start over (a query sums into arrays of this size: 6 MB at most). */
const MAX_NAMES = 262_144

/** Columns of decoded segments, least recently used evicted first, bounded by the flows held. */
export class ColumnCache {
  private readonly map = new Map<string, FlowColumns>()
  private flows = 0
  private readonly ids = new Map<string, number>()
  /** Text of each id (addresses, service lists, service names). */
  readonly names: string[] = []
  private serviceIds: (Int32Array | undefined)[] = []
  /** Changes when the text table starts over (columns built before use other ids). */
  epoch = 0

  constructor(private readonly maxFlows: number) {}

  intern(s: string): number {
    let v = this.ids.get(s)
    if (v === undefined) { v = this.names.length; this.names.push(s); this.ids.set(s, v) }
    return v
  }

  /** Ids of the service names of a service-list text ("" → "-"), computed once per text. */
  servicesOf(id: number): Int32Array {
    let v = this.serviceIds[id]
    if (v === undefined) {
      const s = this.names[id]!
      v = Int32Array.from(s === '' ? [this.intern('-')] : s.split(',').map((x) => this.intern(x)))
      this.serviceIds[id] = v
    }
    return v
  }

  build(flows: readonly Flow[]): FlowColumns {
    const n = flows.length
    const c: FlowColumns = {
      count: n, ts: new Float64Array(n), bytes: new Float64Array(n), packets: new Float64Array(n), orig: new Int32Array(n), resp: new Int32Array(n),
      service: new Int32Array(n), respPort: new Uint16Array(n), transport: new Uint8Array(n),
    }
    for (let i = 0; i < n; i++) {
      const f = flows[i]!
      c.ts[i] = f.tsUs
      c.bytes[i] = f.origIpBytes + f.respIpBytes
      c.packets[i] = f.origPkts + f.respPkts
      c.orig[i] = this.intern(ipText(f.origH))
      c.resp[i] = this.intern(ipText(f.respH))
      c.service[i] = this.intern(f.service)
      this.servicesOf(c.service[i]!) // interned now: a query never adds texts while it sums into arrays
      c.respPort[i] = f.respP
      c.transport[i] = f.proto
    }
    return c
  }

  async get(key: string, load: () => Promise<readonly Flow[] | undefined> | readonly Flow[] | undefined): Promise<FlowColumns | undefined> {
    const hit = this.map.get(key)
    if (hit !== undefined) {
      this.map.delete(key)
      this.map.set(key, hit)
      return hit
    }
    const flows = await load()
    if (flows === undefined) return undefined
    if (this.names.length > MAX_NAMES) this.clear()
    const cols = this.build(flows)
    const old = this.map.get(key)
    if (old !== undefined) this.flows -= old.count
    this.map.set(key, cols)
    this.flows += cols.count
    while (this.flows > this.maxFlows && this.map.size > 1) {
      const [k, v] = this.map.entries().next().value as [string, FlowColumns]
      this.map.delete(k)
      this.flows -= v.count
    }
    return cols
  }

  clear(): void {
    this.map.clear(); this.flows = 0
    this.ids.clear(); this.names.length = 0; this.serviceIds = []
    this.epoch++
  }
}
