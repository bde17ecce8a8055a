/**
 * Zeek ASCII log values written straight into a byte buffer: the same bytes as the string
 * formatters of zeek-value-format.ts, without building the text. Hand-written hot paths
 * shared by the conn.log row encoder (conn-log-bytes.ts) and the generic row encoder of the
 * other logs (zeek-row-bytes.ts): plain ASCII strings and integers are copied / printed digit
 * by digit; anything unusual goes through the string formatters, so the output stays Zeek's.
 * The caller reserves room: ≤ 12 bytes per UTF-16 unit of a string, ≤ 40 per number.
 */
import { escapeZeekString, formatZeekTime } from './zeek-value-format.js'

export const TAB = 0x09
export const DASH = 0x2d
const MAX_SAFE = 2 ** 53

export function putDash(b: Buffer, p: number): number {
  b[p] = DASH
  return p + 1
}

/** Text as is (ASCII copied byte by byte; anything else through the UTF-8 encoder). */
export function putRaw(b: Buffer, p: number, s: string): number {
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return p - i + b.write(s, p - i, 'utf8')
    b[p++] = c
  }
  return p
}

/** escapeZeekString(s): printable ASCII other than "\" is copied unless it is "-" or "(empty)". */
export function putString(b: Buffer, p: number, s: string): number {
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

export function putOptString(b: Buffer, p: number, s: string): number {
  return s === '' ? putDash(b, p) : putString(b, p, s)
}

export function putBool(b: Buffer, p: number, v: boolean | undefined): number {
  b[p] = v === undefined ? DASH : v ? 0x54 : 0x46
  return p + 1
}

/** Decimal digits of an integer 0 ≤ v < 2^53. */
export function putDigits(b: Buffer, p: number, v: number): number {
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
export function putCount(b: Buffer, p: number, v: number): number {
  if (!Number.isFinite(v)) return putDash(b, p)
  const x = Math.trunc(v)
  if (x >= 0 && x < MAX_SAFE) return putDigits(b, p, x)
  return putRaw(b, p, String(x))
}

/** optTime / formatZeekTime (modp_dtoa with 6 decimals). */
export function putTime(b: Buffer, p: number, value: number | undefined): number {
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
