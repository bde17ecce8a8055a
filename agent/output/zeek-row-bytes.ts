/**
 * Rows of the application logs (dns, http, ssl, ssh, …) rendered straight into the log's byte
 * buffer: the same bytes as formatZeekRow(fields, fields.map((f) => row[f.name])), without a
 * text per column and a joined row string (~1 KB of garbage per row, and the type dispatch
 * per value). Hand-written hot path, one call per log row: the common values (numbers,
 * plain ASCII strings and bytes, addresses, string and interval vectors) are written byte by
 * byte; any other value is rendered by its column's string formatter and copied, so the
 * output stays exactly Zeek's. The equivalence is a property test (test/zeek-row-bytes.test.ts).
 *
 * Use: maxBytes(row) (an upper bound; it also reads the row's values and renders the unusual
 * columns), then encode() of that row into a buffer with that much room.
 */
import { escapeZeekBytes, escapeZeekString, formatAddrBytes, normalizeAddr, zeekValueFormatter, type ZeekType } from './zeek-value-format.js'
import { DASH, putCount, putDash, putRaw, putString, putTime, TAB } from './zeek-bytes.js'

const enum Kind { Time, Count, Bool, Addr, Str, StrSet, IntervalVec, Other }

const COMMA = 0x2c
const EMPTY_FIELD = '(empty)'

function kindOf(type: ZeekType): Kind {
  switch (type) {
    case 'time': case 'interval': return Kind.Time
    case 'count': case 'int': case 'port': return Kind.Count
    case 'bool': return Kind.Bool
    case 'addr': return Kind.Addr
    case 'string': case 'enum': return Kind.Str
    case 'set[string]': case 'vector[string]': case 'set[enum]': return Kind.StrSet
    case 'vector[interval]': return Kind.IntervalVec
    default: return Kind.Other
  }
}

/** Room for one set/vector element written by putElement, or -1 when it is not a string or bytes. */
function elementBound(x: unknown): number {
  if (x === undefined || x === null) return 1
  if (typeof x === 'string') return 12 * x.length + 10
  if (x instanceof Uint8Array) return 4 * x.length + 10
  return -1
}

/** Bytes copied as they are when no byte needs escaping (and the value is not reserved); else -1. */
function putPlainBytes(b: Buffer, p: number, v: Uint8Array, inSet: boolean): number {
  const n = v.length
  if (n === 0 || (n === 1 && v[0] === DASH) || (n === 7 && v[0] === 0x28)) return -1
  for (let i = 0; i < n; i++) {
    const c = v[i]!
    if (c < 0x20 || c >= 0x7f || c === 0x5c || (inSet && c === COMMA)) return -1
    b[p + i] = c
  }
  return p + n
}

/** escapeZeekBytes(v, inSet). */
function putBytes(b: Buffer, p: number, v: Uint8Array, inSet: boolean): number {
  const q = putPlainBytes(b, p, v, inSet)
  return q >= 0 ? q : putRaw(b, p, escapeZeekBytes(v, inSet))
}

/** escapeZeekString(s, true): as putString, with "," escaped too. */
function putSetString(b: Buffer, p: number, s: string): number {
  const n = s.length
  if (n === 0 || (n === 1 && s === '-') || (n === 7 && s === EMPTY_FIELD)) return putRaw(b, p, escapeZeekString(s, true))
  const start = p
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c >= 0x7f || c === 0x5c || c === COMMA) return putRaw(b, start, escapeZeekString(s, true))
    b[p++] = c
  }
  return p
}

/** One element of a string set/vector (elementBound(x) ≥ 0). */
function putElement(b: Buffer, p: number, x: unknown): number {
  if (x === undefined || x === null) return putDash(b, p)
  if (typeof x === 'string') return putSetString(b, p, x)
  return putBytes(b, p, x as Uint8Array, true)
}

export class ZeekRowEncoder {
  private readonly names: string[]
  private readonly kinds: Kind[]
  private readonly formatters: Array<(v: unknown) => string>
  /** Per column of the row being written: its text when rendered by the string formatter, else undefined. */
  private readonly texts: Array<string | undefined>
  /** Per column of the row being written: its value (read once, by maxBytes: a keyed lookup each). */
  private readonly values: unknown[]

  constructor(fields: ReadonlyArray<{ name: string; type: ZeekType }>) {
    this.names = fields.map((f) => f.name)
    this.kinds = fields.map((f) => kindOf(f.type))
    this.formatters = fields.map((f) => zeekValueFormatter(f.type))
    this.texts = new Array<string | undefined>(fields.length).fill(undefined)
    this.values = new Array<unknown>(fields.length).fill(undefined)
  }

  /** Upper bound of the bytes encode(row) writes (with the newline); renders the columns the byte path does not take. */
  maxBytes(row: Readonly<Record<string, unknown>>): number {
    const names = this.names
    const kinds = this.kinds
    const texts = this.texts
    const values = this.values
    let total = 1
    for (let i = 0; i < names.length; i++) {
      const v = row[names[i]!]
      values[i] = v
      texts[i] = undefined
      if (v === undefined || v === null) { total += 2; continue }
      let room = -1
      switch (kinds[i]!) {
        case Kind.Time:
        case Kind.Bool:
          room = 40
          break
        case Kind.Count:
          if (typeof v === 'number') room = 40
          break
        case Kind.Addr:
          if (typeof v === 'string') room = 3 * v.length + 48
          else if (v instanceof Uint8Array) room = 48
          break
        case Kind.Str:
          if (typeof v === 'string') room = 12 * v.length + 10
          else if (v instanceof Uint8Array) room = 4 * v.length + 10
          break
        case Kind.StrSet:
          if (Array.isArray(v)) {
            room = 8
            for (let k = 0; k < v.length; k++) {
              const e = elementBound(v[k])
              if (e < 0) { room = -1; break }
              room += e + 1
            }
          }
          break
        case Kind.IntervalVec:
          if (Array.isArray(v)) room = 41 * v.length + 8
          break
        default:
          break
      }
      if (room < 0) {
        const text = this.formatters[i]!(v)
        texts[i] = text
        room = 3 * text.length
      }
      total += room + 1
    }
    return total
  }

  /** Writes the row given to maxBytes just before, and its newline, at b[p…] (room: what maxBytes said); returns the end. */
  encode(b: Buffer, p: number): number {
    const kinds = this.kinds
    const texts = this.texts
    const values = this.values
    for (let i = 0; i < kinds.length; i++) {
      if (i > 0) b[p++] = TAB
      const text = texts[i]
      if (text !== undefined) { p = putRaw(b, p, text); continue }
      const v = values[i]
      if (v === undefined || v === null) { p = putDash(b, p); continue }
      switch (kinds[i]!) {
        case Kind.Time:
          p = typeof v === 'number' ? putTime(b, p, v) : putDash(b, p)
          break
        case Kind.Count:
          p = putCount(b, p, v as number)
          break
        case Kind.Bool:
          b[p++] = v ? 0x54 : 0x46
          break
        case Kind.Addr:
          p = putRaw(b, p, typeof v === 'string' ? normalizeAddr(v) : formatAddrBytes(v as Uint8Array))
          break
        case Kind.Str:
          p = typeof v === 'string' ? putString(b, p, v) : putBytes(b, p, v as Uint8Array, false)
          break
        case Kind.StrSet: {
          const list = v as unknown[]
          if (list.length === 0) { p = putRaw(b, p, EMPTY_FIELD); break }
          for (let k = 0; k < list.length; k++) {
            if (k > 0) b[p++] = COMMA
            p = putElement(b, p, list[k])
          }
          break
        }
        case Kind.IntervalVec: {
          const list = v as unknown[]
          if (list.length === 0) { p = putRaw(b, p, EMPTY_FIELD); break }
          for (let k = 0; k < list.length; k++) {
            if (k > 0) b[p++] = COMMA
            const x = list[k]
            p = typeof x === 'number' ? putTime(b, p, x) : putDash(b, p)
          }
          break
        }
        default:
          p = putRaw(b, p, this.formatters[i]!(v))
          break
      }
    }
    b[p++] = 0x0a
    // Let go of the row's values (the scratch would otherwise keep the last row alive).
    values.fill(undefined)
    return p
  }
}
