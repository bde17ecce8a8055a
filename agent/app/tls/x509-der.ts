/**
 * Minimal DER reader for X.509: TLVs with definite lengths (≤ 4 length bytes), bounds-checked,
 * never throws. A malformed element yields `undefined`.
 */

export interface Tlv {
  /** Full identifier octet (class | constructed | tag number < 31). */
  tag: number
  /** Offsets into `buf`: header start, content start, content end. */
  start: number
  off: number
  end: number
  buf: Buffer
}

export function readTlv(buf: Buffer, pos: number, limit: number = buf.length): Tlv | undefined {
  if (pos + 2 > limit) return undefined
  const tag = buf[pos]!
  if ((tag & 0x1f) === 0x1f) return undefined // high tag numbers never occur in certificates
  let len = buf[pos + 1]!
  let off = pos + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || off + n > limit) return undefined
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + i]!
    off += n
  }
  const end = off + len
  if (end > limit) return undefined
  return { tag, start: pos, off, end, buf }
}

/** The elements inside a constructed TLV (stops at the first malformed one). */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = []
  let p = t.off
  while (p < t.end) {
    const c = readTlv(t.buf, p, t.end)
    if (!c) break
    out.push(c)
    p = c.end
  }
  return out
}

export function content(t: Tlv): Buffer {
  return t.buf.subarray(t.off, t.end)
}

export function whole(t: Tlv): Buffer {
  return t.buf.subarray(t.start, t.end)
}

/** Dotted-decimal text of an OBJECT IDENTIFIER's content. */
export function oidString(b: Buffer): string {
  if (b.length === 0) return ''
  const parts: string[] = []
  let v = 0n
  let first = true
  for (const byte of b) {
    v = (v << 7n) | BigInt(byte & 0x7f)
    if (byte & 0x80) continue
    if (first) {
      const x = v < 40n ? 0n : v < 80n ? 1n : 2n
      parts.push(String(x), String(v - x * 40n))
      first = false
    } else parts.push(String(v))
    v = 0n
  }
  return parts.join('.')
}

/** Bits in an unsigned big-endian integer (leading zero octets ignored). */
export function bitLength(b: Buffer): number {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  if (i === b.length) return 0
  return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!))
}

/** UTCTime / GeneralizedTime content → epoch seconds (UTC), or undefined. */
export function parseDerTime(tag: number, b: Buffer): number | undefined {
  const s = b.toString('latin1')
  const m = tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?(Z|[+-]\d{4})?$/.exec(s)
  if (!m) return undefined
  let year = Number(m[1])
  if (tag === 0x17) year += year < 50 ? 2000 : 1900
  let t = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0')) / 1000
  const z = m[7]
  if (z && z !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1
    t -= sign * (Number(z.slice(1, 3)) * 3600 + Number(z.slice(3, 5)) * 60)
  }
  return Number.isFinite(t) ? t : undefined
}
