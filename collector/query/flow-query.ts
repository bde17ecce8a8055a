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
import { FLOW_CHUNK, type CollectorStore, type FlowIndexSelector, type FlowMetaRecord, type SegmentRef } from '../storage/index.js'
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

function selectors(f: FlowFilter): FlowIndexSelector[] | undefined {
  if (f.host !== undefined) return [{ kind: 'host', addr16: ip16OfText(f.host)! }]
  if (f.cidr !== undefined) { const c = parseCidr16(f.cidr)!; return [{ kind: 'cidr', lo16: c.lo16, hi16: c.hi16 }] }
  if (f.port !== undefined) return (f.proto !== undefined ? [f.proto] : (['tcp', 'udp', 'icmp', 'other'] as L4[])).map((p) => ({ kind: 'port' as const, transport: TRANSPORT_OF[p], port: f.port! }))
  if (f.service !== undefined) return [{ kind: 'service', name: f.service }]
  return undefined
}

/** Candidate segments of an index query in (min_ts, n) order: streamed for one selector, merged for several or a CIDR. */
async function* candidates(store: CollectorStore, f: FlowFilter, sel: FlowIndexSelector[]): AsyncGenerator<Candidate> {
  const one = sel.length === 1 ? sel[0]! : undefined
  if (one !== undefined && one.kind !== 'cidr') {
    yield* store.flows.postingsStream(one, f.fromUs, f.toUs)
    return
  }
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
    yield* [...by.values()].sort((a, b) => a.minTsUs - b.minTsUs || a.n - b.n)
    return
  }
  yield* all
}

/** Index candidates read ahead of the one being matched (meta and first chunk requested early). */
const LOOKAHEAD = 8

const before = (a: SegmentRef, b: SegmentRef): boolean => a.minTsUs < b.minTsUs || (a.minTsUs === b.minTsUs && a.n < b.n)

/** Matching flows from `after` on; stops after `maxScan` flows were examined (`scanned` tells). */
export async function* queryFlows(store: CollectorStore, cache: SegmentCache, f: FlowFilter, after?: Cursor, stats?: { scanned: number; segments: number }): AsyncGenerator<FlowHit> {
  const match = compileFilter(f)
  const sel = selectors(f)
  if (sel !== undefined) {
    yield* indexedHits(store, cache, f, sel, match, after, stats)
    return
  }
  for await (const m of store.flows.metas(f.fromUs, f.toUs, after === undefined ? undefined : { minTsUs: after.minTsUs, n: after.n - 1 })) {
    if (f.agent !== undefined && m.meta.agentId !== f.agent) continue
    const flows = await cache.get(`${m.minTsUs}:${m.n}`, () => store.flows.segment(m))
    if (flows === undefined) continue
    if (stats) stats.segments++
    const same = after !== undefined && m.minTsUs === after.minTsUs && m.n === after.n
    for (let i = 0; i < flows.length; i++) {
      if (same && i <= after.i) continue
      const fl = flows[i]!
      if (stats) stats.scanned++
      if (match(fl, m.meta.agentId)) yield { cursor: { minTsUs: m.minTsUs, n: m.n, i }, agentId: m.meta.agentId, flow: fl }
    }
  }
}

interface Ahead {
  c: Candidate
  meta: Promise<FlowMetaRecord | undefined>
  /** The first chunk needed, requested early (undefined when the segment is cached). */
  chunk: number
  bytes: Promise<Buffer | undefined> | undefined
}

/** Marks a read-ahead promise handled (a query that stops early never awaits it); awaiting it still throws. */
function early<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined)
  return p
}

async function* indexedHits(store: CollectorStore, cache: SegmentCache, f: FlowFilter, sel: FlowIndexSelector[], match: (fl: Flow, agentId: string) => boolean, after: Cursor | undefined, stats: { scanned: number; segments: number } | undefined): AsyncGenerator<FlowHit> {
  const it = candidates(store, f, sel)
  const ahead: Ahead[] = []
  let exhausted = false
  const firstWanted = (c: Candidate, same: boolean): number => {
    for (const i of c.indexes!) if (!same || i > after!.i) return i
    return -1
  }
  const fill = async (): Promise<void> => {
    while (!exhausted && ahead.length < LOOKAHEAD) {
      const r = await it.next()
      if (r.done === true) { exhausted = true; return }
      const c = r.value
      if (after !== undefined && before(c, after)) continue
      const same = after !== undefined && c.minTsUs === after.minTsUs && c.n === after.n
      const first = firstWanted(c, same)
      if (first < 0) continue
      const chunk = Math.floor(first / FLOW_CHUNK)
      const cached = cache.peek(`${c.minTsUs}:${c.n}`) !== undefined
      ahead.push({ c, meta: early(store.flows.meta(c)), chunk, bytes: cached ? undefined : early(store.flows.chunk(c, chunk)) })
    }
  }
  try {
    yield* drainAhead()
  } finally {
    // A query that stops early (a page's limit) closes the postings iterator now, not at GC:
    // an open LevelDB iterator pins its files (compaction cannot drop them).
    await it.return(undefined)
  }

  async function* drainAhead(): AsyncGenerator<FlowHit> {
    for (;;) {
      await fill()
      const a = ahead.shift()
      if (a === undefined) return
      const s = a.c
      const meta = await a.meta
      if (meta === undefined) continue
      const agentId = meta.agentId
      if (f.agent !== undefined && agentId !== f.agent) continue
      const key = `${s.minTsUs}:${s.n}`
      const same = after !== undefined && s.minTsUs === after.minTsUs && s.n === after.n
      const want = s.indexes!
      const flows = cache.peek(key)
      if (stats) stats.segments++
      if (flows !== undefined) {
        for (const i of want) {
          if (same && i <= after.i) continue
          const fl = flows[i]
          if (fl === undefined) continue
          if (stats) stats.scanned++
          if (match(fl, agentId)) yield { cursor: { minTsUs: s.minTsUs, n: s.n, i }, agentId, flow: fl }
        }
        continue
      }
      // An uncached segment: read and decode only the chunks (256 flows) holding the selected
      // flows, one chunk at a time, so a query that stops at its limit reads no further.
      for (let w = 0; w < want.length;) {
        const c = Math.floor(want[w]! / FLOW_CHUNK)
        const first = c * FLOW_CHUNK
        const local: number[] = []
        for (; w < want.length && want[w]! < first + FLOW_CHUNK; w++) if (!same || want[w]! > after.i) local.push(want[w]! - first)
        if (local.length === 0) continue
        const bytes = await (c === a.chunk && a.bytes !== undefined ? a.bytes : store.flows.chunk(s, c))
        if (bytes === undefined) continue
        for (const [j, fl] of decodeSelected(bytes, local)) {
          if (stats) stats.scanned++
          if (match(fl, agentId)) yield { cursor: { minTsUs: s.minTsUs, n: s.n, i: first + j }, agentId, flow: fl }
        }
      }
    }
  }
}
