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

const serviceListsOf = new WeakMap<FlowColumns, string[][]>()

/** Per string of a segment's table, its service names ('-' for none); computed once per segment. */
function serviceLists(c: FlowColumns): string[][] {
  let v = serviceListsOf.get(c)
  if (v === undefined) {
    const used = new Set<number>(c.service)
    v = c.strings.map((s, i) => (!used.has(i) ? [] : s === '' ? ['-'] : s.split(',')))
    serviceListsOf.set(c, v)
  }
  return v
}

export type TopGroup = 'talkers' | 'services' | 'ports' | 'pairs'
export type TopMetric = 'bytes' | 'flows' | 'packets'

export interface TopRow { key: string; bytes: number; flows: number; packets: number }
export interface TopResult { group: TopGroup; by: TopMetric; from_us: number; to_us: number; scanned: number; truncated: boolean; rollup_hours: number; rows: TopRow[] }

const PROTO_NUM: Record<string, number> = { tcp: 1, udp: 2, icmp: 3, other: 0 }

/** True when the filter is one the column path answers (time, agent, proto). */
function columnar(f: FlowFilter): boolean {
  return f.host === undefined && f.cidr === undefined && f.port === undefined && f.service === undefined && f.connState === undefined && f.communityId === undefined
}

async function topFromColumns(store: CollectorStore, cache: SegmentCache, f: FlowFilter, group: TopGroup, maxScan: number, acc: Map<string, TopRow>, scanned0: number): Promise<{ scanned: number; truncated: boolean }> {
  const add = (key: string, bytes: number, packets: number): void => {
    const r = acc.get(key)
    if (r === undefined) acc.set(key, { key, bytes, flows: 1, packets })
    else { r.bytes += bytes; r.flows++; r.packets += packets }
  }
  const proto = f.proto === undefined ? -1 : PROTO_NUM[f.proto]!
  let scanned = scanned0
  for await (const m of store.flows.metas(f.fromUs, f.toUs)) {
    if (f.agent !== undefined && m.meta.agentId !== f.agent) continue
    const key = `${m.minTsUs}:${m.n}`
    const c: FlowColumns | undefined = await cache.columns.get(key, () => cache.get(key, () => store.flows.segment(m)))
    if (c === undefined) continue
    const str = c.strings
    const services = group === 'services' ? serviceLists(c) : undefined
    for (let i = 0; i < c.count; i++) {
      scanned++
      const ts = c.ts[i]!
      if (ts < f.fromUs || ts > f.toUs) continue
      if (proto >= 0 && c.transport[i] !== proto) continue
      const bytes = c.bytes[i]!
      const packets = c.packets[i]!
      if (group === 'talkers') {
        add(str[c.orig[i]!]!, bytes, packets)
        if (c.resp[i] !== c.orig[i]) add(str[c.resp[i]!]!, bytes, packets)
      } else if (group === 'services') {
        for (const s of services![c.service[i]!]!) add(s, bytes, packets)
      } else if (group === 'ports') add(`${l4Of(c.transport[i]!)}/${c.respPort[i]}`, bytes, packets)
      else add(`${str[c.orig[i]!]} -> ${str[c.resp[i]!]}:${c.respPort[i]}/${l4Of(c.transport[i]!)}`, bytes, packets)
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
  const acc = new Map<string, TopRow>()
  const first = Math.ceil(f.fromUs / HOUR_US) * HOUR_US
  const end = Math.floor((f.toUs + 1) / HOUR_US) * HOUR_US
  const rollup = tops !== undefined && group !== 'pairs' && f.agent === undefined && f.proto === undefined && first < end
  const parts: Array<[number, number]> = rollup ? [[f.fromUs, first - 1], [end, f.toUs]] : [[f.fromUs, f.toUs]]
  let scanned = 0
  let truncated = false
  for (const [a, b] of parts) {
    if (a > b) continue
    const r = await topFromColumns(store, cache, { ...f, fromUs: a, toUs: b }, group, maxScan, acc, scanned)
    scanned = r.scanned
    if (r.truncated) { truncated = true; break }
  }
  if (rollup) {
    for await (const c of tops.stored(first, end, group as TopRollupGroup)) {
      const row = acc.get(c.key)
      if (row === undefined) acc.set(c.key, { key: c.key, bytes: c.bytes, flows: c.flows, packets: c.packets })
      else { row.bytes += c.bytes; row.flows += c.flows; row.packets += c.packets }
    }
  }
  const rows = topK(acc.values(), limit, (a, b) => a[by] > b[by] || (a[by] === b[by] && a.key < b.key))
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
