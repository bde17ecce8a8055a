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
import { escapeZeekString, formatZeekTime, formatZeekValue, normalizeAddr } from './zeek-value-format.js'

const TAB = 0x09
const DASH = 0x2d
const MAX_SAFE = 2 ** 53

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

function putDash(b: Buffer, p: number): number {
  b[p] = DASH
  return p + 1
}

/** Text as is (ASCII copied byte by byte; anything else through the UTF-8 encoder). */
function putRaw(b: Buffer, p: number, s: string): number {
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return p - i + b.write(s, p - i, 'utf8')
    b[p++] = c
  }
  return p
}

/** escapeZeekString(s): printable ASCII other than "\" is copied unless it is "-" or "(empty)". */
function putString(b: Buffer, p: number, s: string): number {
  const n = s.length
  if (n === 0 || (n === 1 && s === '-') || (n === 7 && s === '(empty)')) return putRaw(b, p, escapeZeekString(s))
  const start = p
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c >= 0x7f || c === 0x5c) return putRaw(b, start, escapeZeekString(s))
    b[p++] = c
  }
  return p
}

function putOptString(b: Buffer, p: number, s: string): number {
  return s === '' ? putDash(b, p) : putString(b, p, s)
}

function putBool(b: Buffer, p: number, v: boolean | undefined): number {
  b[p] = v === undefined ? DASH : v ? 0x54 : 0x46
  return p + 1
}

/** Decimal digits of an integer 0 ≤ v < 2^53. */
function putDigits(b: Buffer, p: number, v: number): number {
  if (v < 10) { b[p] = 0x30 + v; return p + 1 }
  let len = 0
  if (v < 2147483648) {
    let x = v | 0
    for (let y = x; y > 0; y = (y / 10) | 0) len++
    let q = p + len
    while (x > 0) { const d = (x / 10) | 0; b[--q] = 0x30 + (x - d * 10); x = d }
  } else {
    let x = v
    for (let y = x; y >= 1; y = Math.floor(y / 10)) len++
    let q = p + len
    while (x >= 1) { const d = Math.floor(x / 10); b[--q] = 0x30 + (x - d * 10); x = d }
  }
  return p + len
}

/** count(v) of conn-log-fields: String(Math.trunc(v)), "-" when not finite. */
function putCount(b: Buffer, p: number, v: number): number {
  if (!Number.isFinite(v)) return putDash(b, p)
  const x = Math.trunc(v)
  if (x >= 0 && x < MAX_SAFE) return putDigits(b, p, x)
  return putRaw(b, p, String(x))
}

/** optTime / formatZeekTime (modp_dtoa with 6 decimals). */
function putTime(b: Buffer, p: number, value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value)) return putDash(b, p)
  if (!(value >= 0 && value < MAX_SAFE)) return putRaw(b, p, formatZeekTime(value))
  // The arithmetic of formatZeekTime for a non-negative value, step by step.
  let whole = Math.trunc(value)
  const tmp = (value - whole) * 1e6
  let frac = Math.trunc(tmp)
  const diff = tmp - frac
  if (diff > 0.5) {
    frac++
    if (frac >= 1e6) { frac = 0; whole++ }
  } else if (diff === 0.5 && (frac === 0 || (frac & 1) === 1)) {
    frac++
  }
  if (frac >= 1e6) return putRaw(b, p, formatZeekTime(value)) // 7 digits: as String(frac) prints it
  p = putDigits(b, p, whole)
  b[p++] = 0x2e
  for (let i = 5; i >= 0; i--) { const d = (frac / 10) | 0; b[p + i] = 0x30 + (frac - d * 10); frac = d }
  return p + 6
}
