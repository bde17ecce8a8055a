/**
 * Value rendering of Zeek's ASCII log writer (src/threading/formatters/Ascii.cc, src/Desc.cc,
 * src/util.cc, src/modp_numtoa.c), with Zeek's defaults: separator TAB, set separator ",",
 * empty field "(empty)", unset field "-", LogAscii::enable_utf_8 = T.
 *
 * - time / interval: modp_dtoa with 6 decimals (fixed, trailing zeros kept, Zeek's rounding).
 * - double: 6 decimals with trailing zeros removed and ".0" added to integral values
 *   (ODesc::Add(double, no_exp)); an approximation of modp_dtoa3 for ordinary magnitudes.
 * - count / int / port: decimal integers. bool: T / F.
 * - addr: IPv4 dotted quad; IPv6 as glibc inet_ntop prints it (lowercase, longest zero run
 *   compressed, "::a.b.c.d" for the IPv4-compatible form); IPv4-mapped ::ffff:a.b.c.d is
 *   printed as a.b.c.d because Zeek stores IPv4 addresses that way.
 * - string / enum: "" → (empty); a value equal to "-" or "(empty)" gets its first byte
 *   hex-escaped; backslash → "\\"; the separator (TAB) → \x09; inside a set/vector also the
 *   set separator "," → \x2c; control bytes (< 0x20, 0x7f) and bytes that are not part of a
 *   valid UTF-8 sequence → \xNN (lowercase hex); valid UTF-8 passes through.
 * - set / vector: elements rendered as above and joined with ","; [] → (empty).
 * - undefined / null (and non-finite numbers) → "-".
 */
import ipaddr from 'ipaddr.js'
import { rememberBounded } from '../util/bounded-memo.js'

export type ZeekType =
  | 'time' | 'interval' | 'string' | 'addr' | 'port' | 'enum' | 'count' | 'int' | 'double' | 'bool'
  | 'set[string]' | 'vector[string]' | 'set[enum]'
  | 'vector[addr]'
  | 'vector[interval]'

export const ZEEK_SEPARATOR = '\t'
export const ZEEK_SET_SEPARATOR = ','
export const ZEEK_EMPTY_FIELD = '(empty)'
export const ZEEK_UNSET_FIELD = '-'

const HEX = '0123456789abcdef'

function hexByte(b: number): string {
  return '\\x' + HEX[(b >> 4) & 0xf]! + HEX[b & 0xf]!
}

/** modp_dtoa(value, 6) as used by Zeek's Formatter::Render(double) for time and interval. */
export function formatZeekTime(value: number): string {
  let neg = false
  let v = value
  if (v < 0) {
    neg = true
    v = -v
  }
  let whole = Math.trunc(v)
  const tmp = (v - whole) * 1e6
  let frac = Math.trunc(tmp)
  const diff = tmp - frac
  if (diff > 0.5) {
    frac++
    if (frac >= 1e6) {
      frac = 0
      whole++
    }
  } else if (diff === 0.5 && (frac === 0 || (frac & 1) === 1)) {
    frac++
  }
  const fracStr = String(frac).padStart(6, '0')
  return (neg ? '-' : '') + String(whole) + '.' + fracStr
}

/** Zeek's rendering of a `double` field. */
export function formatZeekDouble(value: number): string {
  let s = formatZeekTime(value)
  s = s.replace(/0+$/, '')
  if (s.endsWith('.')) s += '0'
  return s
}

/** Digits of one dotted quad (at most 15 bytes), turned into text by one latin1Slice. */
const quadScratch = Buffer.alloc(16)

function putOctet(v: number, o: number): number {
  const q = quadScratch
  if (v >= 100) { q[o++] = 0x30 + ((v / 100) | 0); v %= 100; q[o++] = 0x30 + ((v / 10) | 0); v %= 10 } else if (v >= 10) { q[o++] = 0x30 + ((v / 10) | 0); v %= 10 }
  q[o++] = 0x30 + v
  return o
}

/**
 * The dotted quad of the four bytes at `b[off…]`: the same text as
 * `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`, made as one flat string. Hand-written
 * hot path (an A record of every DNS answer): the template made a string per octet and per
 * concatenation step and ended in a cons string, which the host inventory's Map then had to
 * flatten (a copy) before hashing it and kept as a two-object key.
 */
export function ipv4Text(b: Uint8Array, off: number): string {
  let o = putOctet(b[off]!, 0)
  quadScratch[o++] = 0x2e
  o = putOctet(b[off + 1]!, o)
  quadScratch[o++] = 0x2e
  o = putOctet(b[off + 2]!, o)
  quadScratch[o++] = 0x2e
  o = putOctet(b[off + 3]!, o)
  return quadScratch.toString('latin1', 0, o)
}

/** Formats 4 or 16 raw address bytes as Zeek prints an addr. */
export function formatAddrBytes(b: Uint8Array): string {
  if (b.length === 4) return ipv4Text(b, 0)
  if (b.length !== 16) return ''
  let mapped = b[10] === 0xff && b[11] === 0xff
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false
  if (mapped) return ipv4Text(b, 12)

  const words: number[] = []
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!)
  // Longest run of zero words (first one wins on ties), compressed only when ≥ 2 long.
  let bestBase = -1
  let bestLen = 0
  let curBase = -1
  let curLen = 0
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i
        curLen = 1
      } else curLen++
      if (curLen > bestLen) {
        bestBase = curBase
        bestLen = curLen
      }
    } else curBase = -1
  }
  if (bestLen < 2) bestBase = -1

  let out = ''
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':'
      continue
    }
    if (i !== 0) out += ':'
    if (i === 6 && bestBase === 0 && bestLen === 6) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`
      break
    }
    out += words[i]!.toString(16)
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':'
  return out
}

const v6Scratch = new Uint8Array(16)

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  return -1
}

/**
 * Parses the common IPv6 spellings (hex groups, at most one "::") into `out` without
 * allocating; false for anything else (dotted-quad tails, zone ids, malformed text), which
 * the caller hands to ipaddr.js. Called once per address column of every conn.log row.
 */
export function parseIpv6Text(s: string, out: Uint8Array): boolean {
  const n = s.length
  let words = 0
  let gapAt = -1
  let i = 0
  if (n >= 2 && s.charCodeAt(0) === 0x3a) {
    if (s.charCodeAt(1) !== 0x3a) return false
    gapAt = 0
    i = 2
    if (i === n) { out.fill(0); return true }
  }
  while (i < n) {
    // One group: hex digits up to ':' or the end, or a dotted quad as the last 32 bits.
    let v = 0
    let digits = 0
    while (i < n) {
      const d = hexDigit(s.charCodeAt(i))
      if (d < 0) break
      v = (v << 4) | d
      digits++
      i++
    }
    // A dotted-quad tail is left to ipaddr.js: it reads "::a.b.c.d" as IPv4-mapped, and
    // the rendering must stay what it was.
    if (i < n && s.charCodeAt(i) === 0x2e) return false
    if (digits === 0 || digits > 4 || words >= 8) return false
    out[words * 2] = v >>> 8
    out[words * 2 + 1] = v & 0xff
    words++
    if (i === n) break
    if (s.charCodeAt(i) !== 0x3a) return false
    i++
    if (i < n && s.charCodeAt(i) === 0x3a) {
      if (gapAt >= 0) return false
      gapAt = words
      i++
    } else if (i === n) return false
  }
  if (gapAt < 0) return words === 8
  if (words > 7) return false
  const tail = words - gapAt
  out.copyWithin(16 - tail * 2, gapAt * 2, words * 2)
  out.fill(0, gapAt * 2, 16 - tail * 2)
  return true
}

/** Normalises an address given as text (any valid IPv4/IPv6 spelling) to Zeek's form. */
export function normalizeAddr(text: string): string {
  if (!text.includes(':')) return text
  // IPv6 texts are parsed and re-printed once each while they recur (a host's flows share
  // one text object: see flow/addr-text-cache.ts, so the lookup is a pointer compare).
  return normalizedV6.get(text) ?? rememberBounded(normalizedV6, text, normalizeV6(text), NORMALIZED_V6_MAX)
}

/** Recent IPv6 texts → normalizeAddr's answer (bounded: cleared when full). */
const normalizedV6 = new Map<string, string>()
const NORMALIZED_V6_MAX = 16384

function normalizeV6(text: string): string {
  if (parseIpv6Text(text, v6Scratch)) return formatAddrBytes(v6Scratch)
  try {
    return formatAddrBytes(Uint8Array.from(ipaddr.parse(text).toByteArray()))
  } catch {
    return text
  }
}

/** Length of a valid UTF-8 sequence starting at b[i], or 0 when invalid. */
function utf8SeqLen(b: Uint8Array, i: number): number {
  const c = b[i]!
  let n: number
  let min: number
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2
    min = 0x80
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3
    min = 0x800
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4
    min = 0x10000
  } else return 0
  if (i + n > b.length) return 0
  let cp = c & (n === 2 ? 0x1f : n === 3 ? 0x0f : 0x07)
  for (let k = 1; k < n; k++) {
    const cc = b[i + k]!
    if ((cc & 0xc0) !== 0x80) return 0
    cp = (cp << 6) | (cc & 0x3f)
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0
  return n
}

/** Escapes raw string bytes as Zeek's ASCII writer does (see the module comment). */
export function escapeZeekBytes(b: Uint8Array, inSet: boolean): string {
  if (b.length === 0) return ZEEK_EMPTY_FIELD
  let out = ''
  let i = 0
  // Reserved values: escape the first byte so that the field is not read as unset/empty.
  if (isReserved(b)) {
    out = hexByte(b[0]!)
    i = 1
  }
  let runStart = i
  const flush = (to: number): void => {
    if (to > runStart) out += Buffer.from(b.buffer, b.byteOffset + runStart, to - runStart).toString('utf8')
  }
  while (i < b.length) {
    const c = b[i]!
    if (c >= 0x20 && c < 0x7f && c !== 0x5c && !(inSet && c === 0x2c)) {
      i++
      continue
    }
    if (c >= 0x80) {
      const n = utf8SeqLen(b, i)
      if (n > 0) {
        i += n
        continue
      }
    }
    flush(i)
    out += c === 0x5c ? '\\\\' : hexByte(c)
    i++
    runStart = i
  }
  flush(i)
  return out
}

function isReserved(b: Uint8Array): boolean {
  if (b.length === 1) return b[0] === 0x2d // "-"
  if (b.length !== 7) return false
  return b[0] === 0x28 && b[1] === 0x65 && b[2] === 0x6d && b[3] === 0x70 && b[4] === 0x74 && b[5] === 0x79 && b[6] === 0x29
}

/** Escapes a string value; a fast path leaves plain printable ASCII untouched. */
export function escapeZeekString(s: string, inSet = false): string {
  if (s.length === 0) return ZEEK_EMPTY_FIELD
  let plain = true
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c >= 0x7f || c === 0x5c || (inSet && c === 0x2c)) {
      plain = false
      break
    }
  }
  if (plain) {
    if (s === ZEEK_UNSET_FIELD) return '\\x2d'
    if (s === ZEEK_EMPTY_FIELD) return '\\x28empty)'
    return s
  }
  return escapeZeekBytes(Buffer.from(s, 'utf8'), inSet)
}

function asStringValue(v: unknown, inSet: boolean): string {
  if (typeof v === 'string') return escapeZeekString(v, inSet)
  if (v instanceof Uint8Array) return escapeZeekBytes(v, inSet)
  return escapeZeekString(String(v), inSet)
}

function asInteger(v: unknown): string {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.trunc(v)) : ZEEK_UNSET_FIELD
  if (typeof v === 'boolean') return v ? '1' : '0'
  return String(v)
}

/** Renders one value of the given Zeek type as it appears in a TSV log column. */
export function formatZeekValue(type: ZeekType, v: unknown): string {
  if (v === undefined || v === null) return ZEEK_UNSET_FIELD
  switch (type) {
    case 'time':
    case 'interval':
      return typeof v === 'number' && Number.isFinite(v) ? formatZeekTime(v) : ZEEK_UNSET_FIELD
    case 'double':
      return typeof v === 'number' && Number.isFinite(v) ? formatZeekDouble(v) : ZEEK_UNSET_FIELD
    case 'count':
    case 'int':
    case 'port':
      return asInteger(v)
    case 'bool':
      return v ? 'T' : 'F'
    case 'addr':
      if (v instanceof Uint8Array) return formatAddrBytes(v)
      return normalizeAddr(String(v))
    case 'string':
    case 'enum':
      return asStringValue(v, false)
    case 'vector[addr]': {
      if (!Array.isArray(v)) return formatZeekValue('addr', v)
      if (v.length === 0) return ZEEK_EMPTY_FIELD
      return v.map((x) => formatZeekValue('addr', x)).join(ZEEK_SET_SEPARATOR)
    }
    case 'vector[interval]': {
      if (!Array.isArray(v)) return formatZeekValue('interval', v)
      if (v.length === 0) return ZEEK_EMPTY_FIELD
      return v.map((x) => formatZeekValue('interval', x)).join(ZEEK_SET_SEPARATOR)
    }
    case 'set[string]':
    case 'vector[string]':
    case 'set[enum]': {
      if (!Array.isArray(v)) return asStringValue(v, true)
      if (v.length === 0) return ZEEK_EMPTY_FIELD
      let out = ''
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out += ZEEK_SET_SEPARATOR
        out += v[i] === undefined || v[i] === null ? ZEEK_UNSET_FIELD : asStringValue(v[i], true)
      }
      return out
    }
  }
}

/**
 * formatZeekValue(type, ·) as one function per column type, chosen once per log (a writer
 * calls these per value; no type dispatch per value). Same text as formatZeekValue.
 */
export function zeekValueFormatter(type: ZeekType): (v: unknown) => string {
  switch (type) {
    case 'time':
    case 'interval':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? formatZeekTime(v) : ZEEK_UNSET_FIELD)
    case 'count':
    case 'int':
    case 'port':
      return (v) => (v === undefined || v === null ? ZEEK_UNSET_FIELD : asInteger(v))
    case 'bool':
      return (v) => (v === undefined || v === null ? ZEEK_UNSET_FIELD : v ? 'T' : 'F')
    case 'string':
    case 'enum':
      return (v) => (v === undefined || v === null ? ZEEK_UNSET_FIELD : typeof v === 'string' ? escapeZeekString(v, false) : asStringValue(v, false))
    default:
      return (v) => formatZeekValue(type, v)
  }
}
