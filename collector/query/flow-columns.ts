/**
 * Decoded flow segments as columns for aggregate queries (/flows/top): per flow its time,
 * IP bytes, packets, responder port and transport, and the address and service texts as
 * indexes into one string table per segment. Built once per segment from the decoded flows
 * (texts computed once, not per query), kept in a bounded LRU; a top-N over a window is then
 * a loop over typed arrays instead of one async hop and two address formattings per flow.
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
  orig: Int32Array
  resp: Int32Array
  respPort: Uint16Array
  transport: Uint8Array
  service: Int32Array
  /** Address and service texts referenced by orig / resp / service. */
  strings: string[]
}

export function buildColumns(flows: readonly Flow[]): FlowColumns {
  const n = flows.length
  const c: FlowColumns = {
    count: n, ts: new Float64Array(n), bytes: new Float64Array(n), packets: new Float64Array(n), orig: new Int32Array(n), resp: new Int32Array(n),
    respPort: new Uint16Array(n), transport: new Uint8Array(n), service: new Int32Array(n), strings: [],
  }
  const ids = new Map<string, number>()
  const id = (s: string): number => {
    let v = ids.get(s)
    if (v === undefined) { v = c.strings.length; c.strings.push(s); ids.set(s, v) }
    return v
  }
  for (let i = 0; i < n; i++) {
    const f = flows[i]!
    c.ts[i] = f.tsUs
    c.bytes[i] = f.origIpBytes + f.respIpBytes
    c.packets[i] = f.origPkts + f.respPkts
    c.orig[i] = id(ipText(f.origH))
    c.resp[i] = id(ipText(f.respH))
    c.respPort[i] = f.respP
    c.transport[i] = f.proto
    c.service[i] = id(f.service)
  }
  return c
}

/** Columns of decoded segments, least recently used evicted first, bounded by the flows held. */
export class ColumnCache {
  private readonly map = new Map<string, FlowColumns>()
  private flows = 0
  constructor(private readonly maxFlows: number) {}

  async get(key: string, load: () => Promise<readonly Flow[] | undefined> | readonly Flow[] | undefined): Promise<FlowColumns | undefined> {
    const hit = this.map.get(key)
    if (hit !== undefined) {
      this.map.delete(key)
      this.map.set(key, hit)
      return hit
    }
    const flows = await load()
    if (flows === undefined) return undefined
    const cols = buildColumns(flows)
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

  clear(): void { this.map.clear(); this.flows = 0 }
}
