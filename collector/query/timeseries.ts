/**
 * Bytes / flows / packets per interval. Without a host or CIDR filter the answer comes from
 * the per-minute and per-hour roll-ups (kept longer than the flows, so trends survive
 * flow retention; counted once per flow across agents). With one, from the stored flows.
 */
import { CollectorError } from '../errors.js'
import { ROLLUP_HOUR, ROLLUP_MINUTE, type CollectorStore } from '../storage/index.js'
import { queryFlows, type FlowFilter } from './flow-query.js'
import type { SegmentCache } from './segment-cache.js'

export interface TimePoint { t: string; t_us: number; flows: number; bytes: number; packets: number }
export interface TimeSeries { interval_s: number; source: 'rollup_minute' | 'rollup_hour' | 'flows'; points: TimePoint[]; truncated: boolean }

const MAX_POINTS = 10_000

export async function timeSeries(store: CollectorStore, cache: SegmentCache, f: FlowFilter, intervalS: number, maxScan: number): Promise<TimeSeries> {
  const stepUs = intervalS * 1_000_000
  const from = Math.floor(f.fromUs / stepUs) * stepUs
  if ((f.toUs - from) / stepUs > MAX_POINTS) throw new CollectorError('BAD_REQUEST', `query parameter "interval": ${intervalS} s gives more than ${MAX_POINTS} points for this range; use a larger interval or a shorter range`)
  const points = new Map<number, TimePoint>()
  const point = (bucket: number): TimePoint => {
    let p = points.get(bucket)
    if (p === undefined) { p = { t: new Date(bucket / 1000).toISOString(), t_us: bucket, flows: 0, bytes: 0, packets: 0 }; points.set(bucket, p) }
    return p
  }
  let truncated = false
  let source: TimeSeries['source']
  const raw = f.host !== undefined || f.cidr !== undefined || f.port !== undefined || f.connState !== undefined || f.agent !== undefined || f.communityId !== undefined
  if (!raw) {
    if (intervalS % 60 !== 0) throw new CollectorError('BAD_REQUEST', 'query parameter "interval": must be a multiple of 60 s without host/cidr/port/conn_state/agent filters (answered from per-minute roll-ups)')
    const res = intervalS % 3600 === 0 ? ROLLUP_HOUR : ROLLUP_MINUTE
    source = res === ROLLUP_HOUR ? 'rollup_hour' : 'rollup_minute'
    const dim = f.service !== undefined ? `s:${f.service}` : f.proto !== undefined ? `p:${f.proto}` : ''
    for await (const r of store.topology.rollups(res, from, f.toUs + 1, dim)) {
      const p = point(Math.floor(r.bucketUs / stepUs) * stepUs)
      p.flows += r.flows; p.bytes += r.bytes; p.packets += r.packets
    }
  } else {
    source = 'flows'
    const stats = { scanned: 0, segments: 0 }
    for await (const h of queryFlows(store, cache, f, undefined, stats)) {
      const p = point(Math.floor(h.flow.tsUs / stepUs) * stepUs)
      p.flows++; p.bytes += h.flow.origIpBytes + h.flow.respIpBytes; p.packets += h.flow.origPkts + h.flow.respPkts
      if (stats.scanned >= maxScan) { truncated = true; break }
    }
  }
  return { interval_s: intervalS, source, truncated, points: [...points.values()].sort((a, b) => a.t_us - b.t_us) }
}
