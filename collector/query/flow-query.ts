/**
 * Flow queries over the stored segments. The most selective index among the filters picks
 * the candidate segments and positions (host → `fh`, CIDR → `fh` range, port → `fp`,
 * service → `fv`, else the time-ordered `fm` scan); every filter is then checked on the
 * decoded flow. Results come in (segment min_ts, batch, position) order, which is the
 * cursor's order: a cursor resumes exactly after the last flow returned.
 */
import type { Flow } from '../../protocol/index.js'
import { flowCommunityId } from '../../protocol/index.js'
import { CollectorError } from '../errors.js'
import { FLOW_CHUNK, type CollectorStore, type FlowIndexSelector, type SegmentRef } from '../storage/index.js'
import { ip16OfText, ipText, parseCidr16 } from '../topology/addresses.js'
import { TRANSPORT_OF } from '../topology/flow-view.js'
import type { L4 } from '../topology/types.js'
import { CONN_STATES } from './flow-json.js'
import { decodeSelected, type SegmentCache } from './segment-cache.js'
import type { Cursor } from './time-params.js'

export interface FlowFilter {
  fromUs: number
  toUs: number
  host?: string
  cidr?: string
  port?: number
  proto?: L4
  service?: string
  connState?: string
  agent?: string
  communityId?: string
}

export interface FlowHit { cursor: Cursor; agentId: string; flow: Flow }

interface Candidate extends SegmentRef { indexes: number[] | null }

const PROTO_NUM: Record<string, number> = { tcp: 1, udp: 2, icmp: 3, other: 0 }

/** Checks the filter's values; throws BAD_REQUEST naming the parameter. */
export function compileFilter(f: FlowFilter): (flow: Flow, agentId: string) => boolean {
  const host16 = f.host === undefined ? undefined : ip16OfText(f.host)
  if (f.host !== undefined && host16 === undefined) throw new CollectorError('BAD_REQUEST', `query parameter "host": "${f.host}" is not an IP address`)
  const cidr = f.cidr === undefined ? undefined : parseCidr16(f.cidr)
  if (f.cidr !== undefined && cidr === undefined) throw new CollectorError('BAD_REQUEST', `query parameter "cidr": "${f.cidr}" is not a CIDR block like 10.0.0.0/8 or 2001:db8::/32`)
  const cs = f.connState === undefined ? undefined : CONN_STATES.indexOf(f.connState.toUpperCase())
  if (cs !== undefined && cs <= 0) throw new CollectorError('BAD_REQUEST', `query parameter "conn_state": "${f.connState}" is not one of ${CONN_STATES.slice(1).join(', ')}`)
  const proto = f.proto === undefined ? undefined : PROTO_NUM[f.proto]
  const host = f.host === undefined ? undefined : ipText(host16!.subarray(0, 12).equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) ? host16!.subarray(12) : host16)
  return (fl, agentId) => {
    if (fl.tsUs < f.fromUs || fl.tsUs > f.toUs) return false
    if (f.agent !== undefined && agentId !== f.agent) return false
    if (proto !== undefined && fl.proto !== proto) return false
    if (f.port !== undefined && fl.respP !== f.port) return false
    if (cs !== undefined && fl.connState !== cs) return false
    if (f.service !== undefined && !fl.service.split(',').includes(f.service)) return false
    if (host !== undefined && ipText(fl.origH) !== host && ipText(fl.respH) !== host) return false
    if (cidr !== undefined && !cidr.contains(ipText(fl.origH)) && !cidr.contains(ipText(fl.respH))) return false
    if (f.communityId !== undefined && flowCommunityId(fl) !== f.communityId) return false
    return true
  }
}

async function candidates(store: CollectorStore, f: FlowFilter): Promise<Candidate[] | null> {
  let sel: FlowIndexSelector[] | undefined
  if (f.host !== undefined) sel = [{ kind: 'host', addr16: ip16OfText(f.host)! }]
  else if (f.cidr !== undefined) { const c = parseCidr16(f.cidr)!; sel = [{ kind: 'cidr', lo16: c.lo16, hi16: c.hi16 }] }
  else if (f.port !== undefined) sel = (f.proto !== undefined ? [f.proto] : (['tcp', 'udp', 'icmp', 'other'] as L4[])).map((p) => ({ kind: 'port' as const, transport: TRANSPORT_OF[p], port: f.port! }))
  else if (f.service !== undefined) sel = [{ kind: 'service', name: f.service }]
  if (sel === undefined) return null
  const lists = await Promise.all(sel.map((s) => store.flows.postings(s, f.fromUs, f.toUs)))
  const all = lists.flat()
  if (lists.length > 1) {
    const by = new Map<string, Candidate>()
    for (const p of all) {
      const k = `${p.minTsUs}:${p.n}`
      const c = by.get(k)
      if (c === undefined) by.set(k, { ...p })
      else c.indexes = [...new Set([...c.indexes!, ...p.indexes])].sort((a, b) => a - b)
    }
    return [...by.values()].sort((a, b) => a.minTsUs - b.minTsUs || a.n - b.n)
  }
  return all
}

const before = (a: SegmentRef, b: SegmentRef): boolean => a.minTsUs < b.minTsUs || (a.minTsUs === b.minTsUs && a.n < b.n)

/** Matching flows from `after` on; stops after `maxScan` flows were examined (`scanned` tells). */
export async function* queryFlows(store: CollectorStore, cache: SegmentCache, f: FlowFilter, after?: Cursor, stats?: { scanned: number; segments: number }): AsyncGenerator<FlowHit> {
  const match = compileFilter(f)
  const agentOf = new Map<string, string>()
  const indexed = await candidates(store, f)
  async function* segs(): AsyncGenerator<Candidate & { agentId: string }> {
    if (indexed === null) {
      for await (const m of store.flows.metas(f.fromUs, f.toUs, after === undefined ? undefined : { minTsUs: after.minTsUs, n: after.n - 1 })) {
        if (f.agent !== undefined && m.meta.agentId !== f.agent) continue
        yield { minTsUs: m.minTsUs, n: m.n, indexes: null, agentId: m.meta.agentId }
      }
      return
    }
    for (const c of indexed) {
      if (after !== undefined && before(c, after)) continue
      const k = `${c.minTsUs}:${c.n}`
      let agentId = agentOf.get(k)
      if (agentId === undefined) {
        const meta = await store.flows.meta(c)
        if (meta === undefined) continue
        agentId = meta.agentId
        agentOf.set(k, agentId)
      }
      if (f.agent !== undefined && agentId !== f.agent) continue
      yield { ...c, agentId }
    }
  }
  for await (const s of segs()) {
    const key = `${s.minTsUs}:${s.n}`
    const same = after !== undefined && s.minTsUs === after.minTsUs && s.n === after.n
    let flows: Flow[] | undefined = cache.peek(key)
    if (flows === undefined && s.indexes !== null) {
      // An index hit on an uncached segment: read and decode only the chunks (256 flows)
      // holding the selected flows, one chunk at a time, so a query that stops at its
      // limit reads no further.
      if (stats) stats.segments++
      const want = s.indexes
      for (let w = 0; w < want.length;) {
        const c = Math.floor(want[w]! / FLOW_CHUNK)
        const first = c * FLOW_CHUNK
        const local: number[] = []
        for (; w < want.length && want[w]! < first + FLOW_CHUNK; w++) if (!same || want[w]! > after.i) local.push(want[w]! - first)
        if (local.length === 0) continue
        const bytes = await store.flows.chunk(s, c)
        if (bytes === undefined) continue
        for (const [j, fl] of decodeSelected(bytes, local)) {
          if (stats) stats.scanned++
          if (match(fl, s.agentId)) yield { cursor: { minTsUs: s.minTsUs, n: s.n, i: first + j }, agentId: s.agentId, flow: fl }
        }
      }
      continue
    }
    if (flows === undefined) flows = await cache.get(key, () => store.flows.segment(s))
    if (flows === undefined) continue
    if (stats) stats.segments++
    const positions = s.indexes ?? flows.map((_, i) => i)
    for (const i of positions) {
      if (same && i <= after.i) continue
      const fl = flows[i]
      if (fl === undefined) continue
      if (stats) stats.scanned++
      if (match(fl, s.agentId)) yield { cursor: { minTsUs: s.minTsUs, n: s.n, i }, agentId: s.agentId, flow: fl }
    }
  }
}
