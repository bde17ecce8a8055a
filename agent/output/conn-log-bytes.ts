/**
 * conn.log rows rendered straight into the log's byte buffer: the same bytes as
 * connRecordToZeekLine(rec, extras) + "\n", without building the row as a string (that was a
 * chain of ~45 concatenations, ~1.3 KB of garbage per row, the largest allocation site of a
 * flows-only replay). Hand-written hot path, one call per connection: plain ASCII strings and
 * integers are copied / printed digit by digit; anything unusual (strings that need escaping,
 * huge or fractional numbers, tunnel parent sets) goes through the string formatters, so the
 * output stays exactly Zeek's. The equivalence is a property test (test/conn-log-line.test.ts).
 */
import type { ConnRecord } from '../flow/conn-record.js'
import type { ConnLogExtras } from './conn-log-fields.js'
import { formatZeekValue, normalizeAddr } from './zeek-value-format.js'
import { putBool, putCount, putDash, putOptString, putRaw, putString, putTime, TAB } from './zeek-bytes.js'

/** Upper bound of the bytes encodeConnLine writes for `rec` (escaping: ≤ 12 bytes per UTF-16 unit). */
export function connLineMaxBytes(rec: ConnRecord): number {
  let chars = rec.uid.length + rec.origH.length + rec.respH.length + rec.service.length + rec.history.length +
    rec.communityId.length + rec.proto.length + rec.connState.length
  for (let i = 0; i < rec.tunnelParents.length; i++) chars += rec.tunnelParents[i]!.length + 1
  return 12 * chars + 32 * 40
}

/** Writes the row and its newline at b[p…]; returns the end. `b` must have connLineMaxBytes(rec) bytes free. */
export function encodeConnLine(rec: ConnRecord, extras: ConnLogExtras, b: Buffer, p: number): number {
  p = putTime(b, p, rec.ts); b[p++] = TAB
  p = putString(b, p, rec.uid); b[p++] = TAB
  p = putRaw(b, p, normalizeAddr(rec.origH)); b[p++] = TAB
  p = putCount(b, p, rec.origP); b[p++] = TAB
  p = putRaw(b, p, normalizeAddr(rec.respH)); b[p++] = TAB
  p = putCount(b, p, rec.respP); b[p++] = TAB
  p = putString(b, p, rec.proto); b[p++] = TAB
  p = putOptString(b, p, rec.service); b[p++] = TAB
  p = putTime(b, p, rec.duration); b[p++] = TAB
  p = rec.origBytes === undefined ? putDash(b, p) : putCount(b, p, rec.origBytes); b[p++] = TAB
  p = rec.respBytes === undefined ? putDash(b, p) : putCount(b, p, rec.respBytes); b[p++] = TAB
  p = putString(b, p, rec.connState); b[p++] = TAB
  p = putBool(b, p, rec.localOrig); b[p++] = TAB
  p = putBool(b, p, rec.localResp); b[p++] = TAB
  p = putCount(b, p, rec.missedBytes); b[p++] = TAB
  p = putOptString(b, p, rec.history); b[p++] = TAB
  p = putCount(b, p, rec.origPkts); b[p++] = TAB
  p = putCount(b, p, rec.origIpBytes); b[p++] = TAB
  p = putCount(b, p, rec.respPkts); b[p++] = TAB
  p = putCount(b, p, rec.respIpBytes); b[p++] = TAB
  p = rec.tunnelParents.length > 0 ? putRaw(b, p, formatZeekValue('set[string]', rec.tunnelParents)) : putDash(b, p); b[p++] = TAB
  p = putCount(b, p, rec.ipProto)
  if (extras.vlan) {
    b[p++] = TAB; p = rec.vlan === undefined ? putDash(b, p) : putCount(b, p, rec.vlan)
    b[p++] = TAB; p = rec.innerVlan === undefined ? putDash(b, p) : putCount(b, p, rec.innerVlan)
  }
  if (extras.communityId) { b[p++] = TAB; p = putOptString(b, p, rec.communityId) }
  b[p++] = 0x0a
  return p
}
