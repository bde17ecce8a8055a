/**
 * Gap bookkeeping for the spool: turning a dropped batch into Gap records, and merging a
 * new gap into the pending list when it continues the previous one (same kind, reason and
 * epoch, next seq), so a long outage yields a handful of records, not one per batch.
 */
import { GapKind, GapReason } from '../../protocol/index.js'
import type { GapProperties } from '../../protocol/index.js'
import type { BatchContents } from './batch-encoder.js'

/** A pending gap as stored (plain JSON-safe numbers). */
export interface GapRecord {
  kind: number
  count: number
  firstTsUs: number
  lastTsUs: number
  reason: number
  detail: string
  epoch: number
  firstSeq: number
  lastSeq: number
}

export function gapToWire(g: GapRecord): GapProperties {
  return { ...g }
}

/** The gap records that account for one whole dropped (or parked) batch: one per kind it held. */
export function gapsForBatch(c: BatchContents, epoch: number, seq: number, reason: number, detail: string): GapRecord[] {
  const out: GapRecord[] = []
  const base = { reason, detail, epoch, firstSeq: seq, lastSeq: seq }
  if (c.flows > 0) out.push({ kind: GapKind.GAP_KIND_FLOWS, count: c.flows, firstTsUs: c.firstFlowUs, lastTsUs: c.lastFlowUs, ...base })
  if (c.events > 0) out.push({ kind: GapKind.GAP_KIND_EVENTS, count: c.events, firstTsUs: c.firstEventUs, lastTsUs: c.lastEventUs, ...base })
  if (c.observations > 0) out.push({ kind: GapKind.GAP_KIND_OBSERVATIONS, count: c.observations, firstTsUs: c.firstObservationUs, lastTsUs: c.lastObservationUs, ...base })
  if (c.appRecords > 0) out.push({ kind: GapKind.GAP_KIND_APP_RECORDS, count: c.appRecords, firstTsUs: c.firstAppRecordUs, lastTsUs: c.lastAppRecordUs, ...base })
  // A batch with no records (heartbeat, inventory) still had a seq: say that it is gone.
  if (out.length === 0) out.push({ kind: GapKind.GAP_KIND_UNSPECIFIED, count: 0, firstTsUs: 0, lastTsUs: 0, ...base })
  return out
}

/** Records that never reached a batch (a full in-memory queue, shutdown). */
export function gapForRecords(kind: number, count: number, firstTsUs: number, lastTsUs: number, reason: number, detail: string): GapRecord {
  return { kind, count, firstTsUs, lastTsUs, reason, detail, epoch: 0, firstSeq: 0, lastSeq: 0 }
}

/**
 * Adds `g` to `pending`, merging it into an existing record of the same (kind, reason,
 * epoch) when the seq ranges touch (or neither has one). Returns true when merged.
 * Bounded: past `maxRecords`, a gap merges into the last record of its kind and reason
 * whatever its seqs (counts stay exact; the seq range then spans the union).
 */
export function addGap(pending: GapRecord[], g: GapRecord, maxRecords = 1000): boolean {
  for (let i = pending.length - 1; i >= 0; i--) {
    const p = pending[i]!
    if (p.kind !== g.kind || p.reason !== g.reason || p.epoch !== g.epoch) continue
    const seqless = p.firstSeq === 0 && g.firstSeq === 0
    const touching = g.firstSeq !== 0 && p.firstSeq !== 0 && (g.firstSeq === p.lastSeq + 1 || g.lastSeq + 1 === p.firstSeq)
    if (seqless || touching || pending.length >= maxRecords) {
      merge(p, g)
      return true
    }
  }
  pending.push({ ...g })
  return false
}

function merge(p: GapRecord, g: GapRecord): void {
  p.count += g.count
  if (g.firstTsUs !== 0 && (p.firstTsUs === 0 || g.firstTsUs < p.firstTsUs)) p.firstTsUs = g.firstTsUs
  if (g.lastTsUs > p.lastTsUs) p.lastTsUs = g.lastTsUs
  if (g.firstSeq !== 0) {
    p.firstSeq = p.firstSeq === 0 ? g.firstSeq : Math.min(p.firstSeq, g.firstSeq)
    p.lastSeq = Math.max(p.lastSeq, g.lastSeq)
  }
}

export const SPOOL_FULL = GapReason.GAP_REASON_SPOOL_FULL
export const QUEUE_FULL = GapReason.GAP_REASON_QUEUE_FULL
export const REJECTED = GapReason.GAP_REASON_REJECTED
export const SPOOL_ERROR = GapReason.GAP_REASON_SPOOL_ERROR
