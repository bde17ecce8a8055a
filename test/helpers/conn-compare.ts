/**
 * Row-by-row comparison of our conn records with a Zeek conn.log baseline, matched on
 * (orig_h, orig_p, resp_h, resp_p, proto); several rows with the same tuple are paired in
 * order of appearance (both sides list connections in removal order).
 */
import type { ConnRecord } from '../../agent/flow/conn-record.js'
import { connRecordToZeekRow, connLogFields } from '../../agent/output/conn-log-fields.js'
import { formatZeekRow } from '../../agent/output/zeek-ascii-writer.js'
import type { ZeekLog } from './zeek-log-reader.js'

export const COMPARED_FIELDS = [
  'conn_state', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'orig_bytes', 'resp_bytes',
  'missed_bytes', 'duration', 'local_orig', 'local_resp', 'ip_proto', 'service',
] as const

export interface RowDiff {
  tuple: string
  field: string
  zeek: string
  ours: string
}

export interface ConnComparison {
  zeekRows: number
  ourRows: number
  matchedRows: number
  identicalRows: number
  missing: string[]
  extra: string[]
  diffs: RowDiff[]
}

function tupleOf(r: Record<string, string>): string {
  return `${r['id.orig_h']}:${r['id.orig_p']} > ${r['id.resp_h']}:${r['id.resp_p']} ${r.proto}`
}

/** Our records rendered through the same Zeek writer as conn.log, keyed by field name. */
export function renderOurs(recs: readonly ConnRecord[]): Record<string, string>[] {
  const extras = { vlan: true, communityId: false }
  const fields = connLogFields(extras)
  return recs.map((rec) => {
    const line = formatZeekRow(fields, connRecordToZeekRow(rec, extras))
    const cols = line.split('\t')
    const o: Record<string, string> = {}
    fields.forEach((f, i) => { o[f.name] = cols[i]! })
    return o
  })
}

export function compareConn(zeek: ZeekLog, recs: readonly ConnRecord[]): ConnComparison {
  const ours = renderOurs(recs)
  const byTuple = new Map<string, Record<string, string>[]>()
  for (const o of ours) {
    const k = tupleOf(o)
    const list = byTuple.get(k) ?? []
    list.push(o)
    byTuple.set(k, list)
  }
  const out: ConnComparison = { zeekRows: zeek.rows.length, ourRows: ours.length, matchedRows: 0, identicalRows: 0, missing: [], extra: [], diffs: [] }
  for (const z of zeek.rows) {
    const k = tupleOf(z)
    const list = byTuple.get(k)
    const o = list?.shift()
    if (!o) { out.missing.push(k); continue }
    out.matchedRows++
    let same = true
    for (const f of COMPARED_FIELDS) {
      if (z[f] !== o[f]) { out.diffs.push({ tuple: k, field: f, zeek: z[f] ?? '', ours: o[f] ?? '' }); same = false }
    }
    // A tunnel parent wherever Zeek has one (uids differ by design).
    const zt = z.tunnel_parents !== '-'
    const ot = o.tunnel_parents !== '-'
    if (zt !== ot) { out.diffs.push({ tuple: k, field: 'tunnel_parents', zeek: z.tunnel_parents ?? '', ours: o.tunnel_parents ?? '' }); same = false }
    if (z.vlan !== undefined && z.vlan !== o.vlan) { out.diffs.push({ tuple: k, field: 'vlan', zeek: z.vlan, ours: o.vlan ?? '' }); same = false }
    if (z.inner_vlan !== undefined && z.inner_vlan !== o.inner_vlan) { out.diffs.push({ tuple: k, field: 'inner_vlan', zeek: z.inner_vlan, ours: o.inner_vlan ?? '' }); same = false }
    if (same) out.identicalRows++
  }
  for (const [k, list] of byTuple) for (let i = 0; i < list.length; i++) out.extra.push(k)
  return out
}
