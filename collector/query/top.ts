/**
 * Top talkers / services / ports / edges by bytes, flows or packets over a window, from
 * the stored flow records (every agent's record: a flow two agents reported counts twice
 * here; the topology counts it once). Bounded by `maxScan` flows examined.
 *
 * Filtered only by time (and agent / proto), the answer is computed over the segments'
 * columns (flow-columns.ts: typed arrays, address texts computed once per segment) in the
 * same segment order with the same counting of `scanned` and the same truncation as the
 * general path, so both give identical answers; other filters go through queryFlows.
 */
import type { CollectorStore } from '../storage/index.js'
import { ipText } from '../topology/addresses.js'
import { l4Of } from '../topology/flow-view.js'
import { queryFlows, type FlowFilter } from './flow-query.js'
import type { SegmentCache } from './segment-cache.js'
import type { FlowColumns } from './flow-columns.js'
import { topK } from './top-k.js'
import { HOUR_US, type TopRollupGroup, type TopRollups } from '../topology/top-rollups.js'

export type TopGroup = 'talkers' | 'services' | 'ports' | 'pairs'
export type TopMetric = 'bytes' | 'flows' | 'packets'

export interface TopRow { key: string; bytes: number; flows: number; packets: number }
export interface TopResult { group: TopGroup; by: TopMetric; from_us: number; to_us: number; scanned: number; truncated: boolean; rollup_hours: number; rows: TopRow[] }

const PROTO_NUM: Record<string, number> = { tcp: 1, udp: 2, icmp: 3, other: 0 }

/** True when the filter is one the column path answers (time, agent, proto). */
function columnar(f: FlowFilter): boolean {
  return f.host === undefined && f.cidr === undefined && f.port === undefined && f.service === undefined && f.connState === undefined && f.communityId === undefined
}

interface Part { cols: FlowColumns; agentId: string; fromUs: number; toUs: number }

/** The cached columns of every segment of each [from, to] part (loaded before counting, so one text table serves them all). */
async function columnsOf(store: CollectorStore, cache: SegmentCache, f: FlowFilter, ranges: Array<[number, number]>): Promise<Part[] | undefined> {
  const epoch = cache.columns.epoch
  const parts: Part[] = []
  for (const [a, b] of ranges) {
    if (a > b) continue
    for await (const m of store.flows.metas(a, b)) {
      if (f.agent !== undefined && m.meta.agentId !== f.agent) continue
      const key = `${m.minTsUs}:${m.n}`
      const cols = await cache.columns.get(key, () => cache.get(key, () => store.flows.segment(m)))
      if (cols !== undefined) parts.push({ cols, agentId: m.meta.agentId, fromUs: a, toUs: b })
    }
  }
  return cache.columns.epoch === epoch ? parts : undefined
}

/** Sums per text id (talkers, services) in arrays; other groups in a Map by key. */
class Acc {
  readonly flows: Float64Array
  readonly bytes: Float64Array
  readonly packets: Float64Array
  readonly touched: number[] = []
  readonly keyed = new Map<string, TopRow>()
  constructor(size: number) {
    this.flows = new Float64Array(size)
    this.bytes = new Float64Array(size)
    this.packets = new Float64Array(size)
  }

  id(i: number, flows: number, bytes: number, packets: number): void {
    if (this.flows[i] === 0 && this.bytes[i] === 0 && this.packets[i] === 0) this.touched.push(i)
    this.flows[i]! += flows; this.bytes[i]! += bytes; this.packets[i]! += packets
  }

  key(key: string, flows: number, bytes: number, packets: number): void {
    const r = this.keyed.get(key)
    if (r === undefined) this.keyed.set(key, { key, bytes, flows, packets })
    else { r.bytes += bytes; r.flows += flows; r.packets += packets }
  }
}

function count(cache: SegmentCache, parts: Part[], f: FlowFilter, group: TopGroup, maxScan: number, acc: Acc): { scanned: number; truncated: boolean } {
  const proto = f.proto === undefined ? -1 : PROTO_NUM[f.proto]!
  const names = cache.columns.names
  let scanned = 0
  for (const { cols: c, fromUs, toUs } of parts) {
    for (let i = 0; i < c.count; i++) {
      scanned++
      const ts = c.ts[i]!
      if (ts < fromUs || ts > toUs) continue
      if (proto >= 0 && c.transport[i] !== proto) continue
      const bytes = c.bytes[i]!
      const packets = c.packets[i]!
      if (group === 'talkers') {
        acc.id(c.orig[i]!, 1, bytes, packets)
        if (c.resp[i] !== c.orig[i]) acc.id(c.resp[i]!, 1, bytes, packets)
      } else if (group === 'services') {
        for (const s of cache.columns.servicesOf(c.service[i]!)) acc.id(s, 1, bytes, packets)
      } else if (group === 'ports') acc.key(`${l4Of(c.transport[i]!)}/${c.respPort[i]}`, 1, bytes, packets)
      else acc.key(`${names[c.orig[i]!]} -> ${names[c.resp[i]!]}:${c.respPort[i]}/${l4Of(c.transport[i]!)}`, 1, bytes, packets)
      if (scanned >= maxScan) return { scanned, truncated: true }
    }
  }
  return { scanned, truncated: false }
}

/**
 * Top rows over a window. Filtered only by time, talkers / services / ports take every
 * whole hour inside the window from the hour roll-ups (top-rollups.ts: the same per-record
 * counting, as of the last topology flush) and the partial hours at either end from the
 * stored flows' columns; `rollup_hours` says how many hours came from roll-ups and
 * `scanned` counts the flows examined. With an agent or proto filter, or for pairs, every
 * flow of the window is examined (columns); other filters use the general path.
 */
export async function topFlows(store: CollectorStore, cache: SegmentCache, f: FlowFilter, group: TopGroup, by: TopMetric, limit: number, maxScan: number, tops?: TopRollups): Promise<TopResult> {
  if (!columnar(f)) return topFlowsScan(store, cache, f, group, by, limit, maxScan)
  const first = Math.ceil(f.fromUs / HOUR_US) * HOUR_US
  const end = Math.floor((f.toUs + 1) / HOUR_US) * HOUR_US
  const rollup = tops !== undefined && group !== 'pairs' && f.agent === undefined && f.proto === undefined && first < end
  const rolled: Array<{ key: string; flows: number; bytes: number; packets: number }> = []
  if (rollup) for await (const r of tops.stored(first, end, group as TopRollupGroup)) rolled.push(r)
  const ranges: Array<[number, number]> = rollup ? [[f.fromUs, first - 1], [end, f.toUs]] : [[f.fromUs, f.toUs]]
  const parts = await columnsOf(store, cache, f, ranges) ?? await columnsOf(store, cache, f, ranges)
  if (parts === undefined) return topFlowsScan(store, cache, f, group, by, limit, maxScan) // the text table started over twice meanwhile
  const byId = group === 'talkers' || group === 'services'
  const ids = cache.columns
  const rolledIds = byId ? rolled.map((r) => ids.intern(r.key)) : []
  const acc = new Acc(byId ? ids.names.length : 0)
  const { scanned, truncated } = count(cache, parts, f, group, maxScan, acc)
  for (let i = 0; i < rolled.length; i++) {
    const r = rolled[i]!
    if (byId) acc.id(rolledIds[i]!, r.flows, r.bytes, r.packets)
    else acc.key(r.key, r.flows, r.bytes, r.packets)
  }
  let rows: TopRow[]
  if (byId) {
    const m = by === 'bytes' ? acc.bytes : by === 'flows' ? acc.flows : acc.packets
    const names = ids.names
    const top = topK(acc.touched, limit, (a, b) => m[a]! > m[b]! || (m[a] === m[b] && names[a]! < names[b]!))
    rows = top.map((i) => ({ key: names[i]!, bytes: acc.bytes[i]!, flows: acc.flows[i]!, packets: acc.packets[i]! }))
  } else {
    rows = topK(acc.keyed.values(), limit, (a, b) => a[by] > b[by] || (a[by] === b[by] && a.key < b.key))
  }
  return { group, by, from_us: f.fromUs, to_us: f.toUs, scanned, truncated, rollup_hours: rollup ? (end - first) / HOUR_US : 0, rows }
}

/** The general path: every filter, flow by flow through queryFlows (exported for the equivalence test). */
export async function topFlowsScan(store: CollectorStore, cache: SegmentCache, f: FlowFilter, group: TopGroup, by: TopMetric, limit: number, maxScan: number): Promise<TopResult> {
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
  const rows = topK(acc.values(), limit, (a, b) => a[by] > b[by] || (a[by] === b[by] && a.key < b.key))
  return { group, by, from_us: f.fromUs, to_us: f.toUs, scanned: stats.scanned, truncated, rollup_hours: 0, rows }
}
