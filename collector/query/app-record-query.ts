/**
 * Application-log rows (Zeek dns, http, ssl, … as sent by agents in Batch.app_records),
 * filtered, in segment order with a cursor. Each hit is the row's own Zeek JSON object with
 * `_log` (the Zeek log path) and `_agent` (the agent id) set by the collector.
 */
import { AppRecord, Batch } from '../../protocol/index.js'
import { appRecordSpans } from '../storage/app-segment.js'
import type { CollectorStore } from '../storage/index.js'
import { ip16 } from '../storage/keys.js'
import type { Cursor } from './time-params.js'

export interface AppRecordFilter {
  fromUs: number
  toUs: number
  /** Zeek log path: dns, http, ssl, … */
  log?: string
  uid?: string
  /** 16-byte address (IPv4-mapped for IPv4) that must be id.orig_h or id.resp_h. */
  host16?: Buffer
  respP?: number
  agent?: string
  /** Case-insensitive substring of the row's Zeek JSON text. */
  q?: string
}

export interface AppRecordHit { cursor: Cursor; agentId: string; record: Record<string, unknown> }

/**
 * A row's place in time for queries and storage, in 0..2^53-1 µs: ts_us before 1970 counts
 * as 1970 and past 2255 as the end of time, so such a row is still stored and listed (its
 * Zeek JSON keeps its own `ts`). Ingest files segments the same way.
 */
export function appRecordTimeUs(tsUs: number | null | undefined): number {
  const us = tsUs ?? 0
  return !(us > 0) ? 0 : us > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : us
}

/**
 * The row as the API returns it. A stored zeek_json that is not a JSON object (an agent
 * sent something else) is returned as `{ _log, _agent, _invalid_json: <text> }`.
 */
export function appRecordJson(agentId: string, r: AppRecord): Record<string, unknown> {
  let row: unknown
  try {
    row = JSON.parse(r.zeekJson)
  } catch {
    row = undefined
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return { _log: r.log, _agent: agentId, _invalid_json: r.zeekJson }
  // The collector's keys are set last: a row carrying its own `_log`/`_agent` cannot pose as another log or agent.
  return { ...(row as Record<string, unknown>), _log: r.log, _agent: agentId }
}

const addrIs = (a: Uint8Array | null | undefined, host16: Buffer): boolean => {
  if (a === null || a === undefined) return false
  const a16 = ip16(a)
  return a16 !== null && a16.equals(host16)
}

function matches(r: AppRecord, f: AppRecordFilter, qLower: string | undefined): boolean {
  const ts = appRecordTimeUs(r.tsUs)
  if (ts < f.fromUs || ts > f.toUs) return false
  if (f.log !== undefined && r.log !== f.log) return false
  if (f.uid !== undefined && r.uid !== f.uid) return false
  if (f.respP !== undefined && r.respP !== f.respP) return false
  if (f.host16 !== undefined && !addrIs(r.origH, f.host16) && !addrIs(r.respH, f.host16)) return false
  if (qLower !== undefined && !r.zeekJson.toLowerCase().includes(qLower)) return false
  return true
}

/**
 * Matching rows in (segment, row) order from `after` on. A `host` filter reads only the
 * segments the `ah` postings name for that address (and only their posted rows); every
 * other filter scans the segments of the time range.
 */
export async function* queryAppRecords(store: CollectorStore, f: AppRecordFilter, after?: Cursor): AsyncGenerator<AppRecordHit> {
  const agentOf = new Map<number, string>()
  const qLower = f.q?.toLowerCase()
  const from = after === undefined ? undefined : { minTsUs: after.minTsUs, n: after.n - 1 }
  const segments = f.host16 !== undefined ? store.flows.appSegmentsOfHost(f.host16, f.fromUs, f.toUs, from) : store.flows.appSegments(f.fromUs, f.toUs, from)
  for await (const s of segments) {
    let agentId = agentOf.get(s.n)
    if (agentId === undefined) {
      agentId = (await store.batches.batchRecord(s.n))?.agentId ?? ''
      agentOf.set(s.n, agentId)
    }
    if (f.agent !== undefined && agentId !== f.agent) continue
    const same = after !== undefined && after.minTsUs === s.minTsUs && after.n === s.n
    const rows: readonly number[] | undefined = 'indexes' in s ? (s as { indexes: number[] }).indexes : undefined
    if (rows === undefined) {
      const records = Batch.decode(s.bytes).appRecords as AppRecord[]
      for (let i = 0; i < records.length; i++) {
        if (same && i <= after.i) continue
        const r = records[i]!
        if (matches(r, f, qLower)) yield { cursor: { minTsUs: s.minTsUs, n: s.n, i }, agentId, record: appRecordJson(agentId, r) }
      }
      continue
    }
    // The index named these rows: decode only them.
    const spans = appRecordSpans(s.bytes)
    for (const i of rows) {
      if (same && i <= after.i) continue
      const span = spans[i]
      if (span === undefined) continue
      let r: AppRecord
      try {
        r = AppRecord.decode(s.bytes.subarray(span[0], span[1]))
      } catch {
        continue // disk damage: ingest checked every entry's wire types
      }
      if (matches(r, f, qLower)) yield { cursor: { minTsUs: s.minTsUs, n: s.n, i }, agentId, record: appRecordJson(agentId, r) }
    }
  }
}
