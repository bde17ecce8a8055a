/**
 * Top talkers / services / ports / edges by bytes, flows or packets over a window, from
 * the stored flow records (every agent's record: a flow two agents reported counts twice
 * here; the topology counts it once). Bounded by `maxScan` flows examined.
 */
import type { CollectorStore } from '../storage/index.js'
import { ipText } from '../topology/addresses.js'
import { l4Of } from '../topology/flow-view.js'
import { queryFlows, type FlowFilter } from './flow-query.js'
import type { SegmentCache } from './segment-cache.js'

export type TopGroup = 'talkers' | 'services' | 'ports' | 'pairs'
export type TopMetric = 'bytes' | 'flows' | 'packets'

export interface TopRow { key: string; bytes: number; flows: number; packets: number }
export interface TopResult { group: TopGroup; by: TopMetric; from_us: number; to_us: number; scanned: number; truncated: boolean; rows: TopRow[] }

export async function topFlows(store: CollectorStore, cache: SegmentCache, f: FlowFilter, group: TopGroup, by: TopMetric, limit: number, maxScan: number): Promise<TopResult> {
  const acc = new Map<string, TopRow>()
  const add = (key: string, bytes: number, packets: number): void => {
    const r = acc.get(key)
    if (r === undefined) acc.set(key, { key, bytes, flows: 1, packets })
    else { r.bytes += bytes; r.flows++; r.packets += packets }
  }
  const stats = { scanned: 0, segments: 0 }
  let truncated = false
  for await (const h of queryFlows(store, cache, f, undefined, stats)) {
    const fl = h.flow
    const bytes = fl.origIpBytes + fl.respIpBytes
    const packets = fl.origPkts + fl.respPkts
    if (group === 'talkers') {
      const o = ipText(fl.origH)
      const r = ipText(fl.respH)
      add(o, bytes, packets)
      if (r !== o) add(r, bytes, packets)
    } else if (group === 'services') {
      for (const s of fl.service === '' ? ['-'] : fl.service.split(',')) add(s, bytes, packets)
    } else if (group === 'ports') add(`${l4Of(fl.proto)}/${fl.respP}`, bytes, packets)
    else add(`${ipText(fl.origH)} -> ${ipText(fl.respH)}:${fl.respP}/${l4Of(fl.proto)}`, bytes, packets)
    if (stats.scanned >= maxScan) { truncated = true; break }
  }
  const rows = [...acc.values()].sort((a, b) => b[by] - a[by] || (a.key < b.key ? -1 : 1)).slice(0, limit)
  return { group, by, from_us: f.fromUs, to_us: f.toUs, scanned: stats.scanned, truncated, rows }
}
