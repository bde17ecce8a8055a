/**
 * conn.log columns, as Zeek 9.x writes them (base/protocols/conn/main.zeek), plus the optional
 * columns of Zeek's policy scripts: `vlan` / `inner_vlan` (int, policy/protocols/conn/
 * vlan-logging.zeek, appended after ip_proto) and `community_id` (string, policy/protocols/
 * conn/community-id-logging.zeek, appended after those).
 */
import type { ConnRecord } from '../flow/conn-record.js'
import type { ZeekField } from './zeek-ascii-writer.js'
import { escapeZeekString, formatZeekTime, formatZeekValue, normalizeAddr, ZEEK_SEPARATOR as TAB, ZEEK_UNSET_FIELD as UNSET } from './zeek-value-format.js'

export const CONN_LOG_PATH = 'conn'

/** The 22 standard columns, in Zeek's order. */
export const CONN_LOG_FIELDS: readonly ZeekField[] = Object.freeze([
  { name: 'ts', type: 'time' },
  { name: 'uid', type: 'string' },
  { name: 'id.orig_h', type: 'addr' },
  { name: 'id.orig_p', type: 'port' },
  { name: 'id.resp_h', type: 'addr' },
  { name: 'id.resp_p', type: 'port' },
  { name: 'proto', type: 'enum' },
  { name: 'service', type: 'string' },
  { name: 'duration', type: 'interval' },
  { name: 'orig_bytes', type: 'count' },
  { name: 'resp_bytes', type: 'count' },
  { name: 'conn_state', type: 'string' },
  { name: 'local_orig', type: 'bool' },
  { name: 'local_resp', type: 'bool' },
  { name: 'missed_bytes', type: 'count' },
  { name: 'history', type: 'string' },
  { name: 'orig_pkts', type: 'count' },
  { name: 'orig_ip_bytes', type: 'count' },
  { name: 'resp_pkts', type: 'count' },
  { name: 'resp_ip_bytes', type: 'count' },
  { name: 'tunnel_parents', type: 'set[string]' },
  { name: 'ip_proto', type: 'count' },
] satisfies ZeekField[])

export const CONN_LOG_VLAN_FIELDS: readonly ZeekField[] = Object.freeze([
  { name: 'vlan', type: 'int' },
  { name: 'inner_vlan', type: 'int' },
] satisfies ZeekField[])

export const CONN_LOG_COMMUNITY_ID_FIELD: ZeekField = Object.freeze({ name: 'community_id', type: 'string' })

export interface ConnLogExtras {
  vlan: boolean
  communityId: boolean
}

/** The columns for the chosen extras, matching connRecordToZeekRow. */
export function connLogFields(extras: ConnLogExtras): readonly ZeekField[] {
  const out = [...CONN_LOG_FIELDS]
  if (extras.vlan) out.push(...CONN_LOG_VLAN_FIELDS)
  if (extras.communityId) out.push(CONN_LOG_COMMUNITY_ID_FIELD)
  return out
}

/** '' means "not set" for Zeek's &optional string columns. */
const opt = (s: string): string | undefined => (s === '' ? undefined : s)

/**
 * Values in connLogFields(extras) order. Zeek leaves unset (written "-"): service without a
 * detected protocol, an empty history, tunnel_parents outside a tunnel, duration / bytes
 * when undefined.
 */
export function connRecordToZeekRow(rec: ConnRecord, extras: ConnLogExtras): unknown[] {
  const row: unknown[] = [
    rec.ts, rec.uid, rec.origH, rec.origP, rec.respH, rec.respP, rec.proto,
    opt(rec.service), rec.duration, rec.origBytes, rec.respBytes, rec.connState,
    rec.localOrig, rec.localResp, rec.missedBytes, opt(rec.history),
    rec.origPkts, rec.origIpBytes, rec.respPkts, rec.respIpBytes,
    rec.tunnelParents.length > 0 ? rec.tunnelParents : undefined, rec.ipProto,
  ]
  if (extras.vlan) row.push(rec.vlan, rec.innerVlan)
  if (extras.communityId) row.push(opt(rec.communityId))
  return row
}

function count(v: number): string {
  return Number.isFinite(v) ? String(Math.trunc(v)) : UNSET
}

function optCount(v: number | undefined): string {
  return v === undefined ? UNSET : count(v)
}

function optTime(v: number | undefined): string {
  return v !== undefined && Number.isFinite(v) ? formatZeekTime(v) : UNSET
}

function optBool(v: boolean | undefined): string {
  return v === undefined ? UNSET : v ? 'T' : 'F'
}

function optString(s: string): string {
  return s === '' ? UNSET : escapeZeekString(s)
}

/**
 * The same row as formatZeekRow(connLogFields(extras), connRecordToZeekRow(rec, extras)),
 * rendered directly from the record (no value array, no per-column type dispatch): replay
 * writes one per connection. The equivalence is a property test (test/conn-log-line.test.ts).
 */
export function connRecordToZeekLine(rec: ConnRecord, extras: ConnLogExtras): string {
  let line = optTime(rec.ts) + TAB + escapeZeekString(rec.uid) + TAB + normalizeAddr(rec.origH) + TAB + count(rec.origP) + TAB +
    normalizeAddr(rec.respH) + TAB + count(rec.respP) + TAB + escapeZeekString(rec.proto) + TAB + optString(rec.service) + TAB +
    optTime(rec.duration) + TAB + optCount(rec.origBytes) + TAB + optCount(rec.respBytes) + TAB + escapeZeekString(rec.connState) + TAB +
    optBool(rec.localOrig) + TAB + optBool(rec.localResp) + TAB + count(rec.missedBytes) + TAB + optString(rec.history) + TAB +
    count(rec.origPkts) + TAB + count(rec.origIpBytes) + TAB + count(rec.respPkts) + TAB + count(rec.respIpBytes) + TAB +
    (rec.tunnelParents.length > 0 ? formatZeekValue('set[string]', rec.tunnelParents) : UNSET) + TAB + count(rec.ipProto)
  if (extras.vlan) line += TAB + optCount(rec.vlan) + TAB + optCount(rec.innerVlan)
  if (extras.communityId) line += TAB + optString(rec.communityId)
  return line
}

/**
 * Zeek JSON-log style object (LogAscii::use_json, JSON::TS_EPOCH): the same column names as
 * keys, in column order, unset fields omitted, sets as arrays. vlan / inner_vlan /
 * community_id appear when set, and the MAC addresses under the names of Zeek's mac-logging
 * policy (orig_l2_addr / resp_l2_addr).
 */
export function connRecordToJson(rec: ConnRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {
    ts: rec.ts,
    uid: rec.uid,
    'id.orig_h': rec.origH,
    'id.orig_p': rec.origP,
    'id.resp_h': rec.respH,
    'id.resp_p': rec.respP,
    proto: rec.proto,
  }
  if (rec.service !== '') o.service = rec.service
  if (rec.duration !== undefined) o.duration = rec.duration
  if (rec.origBytes !== undefined) o.orig_bytes = rec.origBytes
  if (rec.respBytes !== undefined) o.resp_bytes = rec.respBytes
  o.conn_state = rec.connState
  if (rec.localOrig !== undefined) o.local_orig = rec.localOrig
  if (rec.localResp !== undefined) o.local_resp = rec.localResp
  o.missed_bytes = rec.missedBytes
  if (rec.history !== '') o.history = rec.history
  o.orig_pkts = rec.origPkts
  o.orig_ip_bytes = rec.origIpBytes
  o.resp_pkts = rec.respPkts
  o.resp_ip_bytes = rec.respIpBytes
  if (rec.tunnelParents.length > 0) o.tunnel_parents = [...rec.tunnelParents]
  o.ip_proto = rec.ipProto
  if (rec.vlan !== undefined) o.vlan = rec.vlan
  if (rec.innerVlan !== undefined) o.inner_vlan = rec.innerVlan
  if (rec.communityId !== '') o.community_id = rec.communityId
  if (rec.origL2Addr !== undefined) o.orig_l2_addr = rec.origL2Addr
  if (rec.respL2Addr !== undefined) o.resp_l2_addr = rec.respL2Addr
  return o
}
