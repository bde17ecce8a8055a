/**
 * A read position in one DNS message, with Zeek's (data, len) semantics: `len` is how many
 * bytes the current parse step may still read (it can be less than what is left in `buf`,
 * e.g. inside a compression pointer target). Reads past `len` return 0 without moving, as
 * DNS_Interpreter::ExtractShort/ExtractLong do.
 */
export interface DnsCursor {
  readonly buf: Uint8Array
  pos: number
  len: number
}

export function cursorAt(buf: Uint8Array, pos: number, len: number): DnsCursor {
  return { buf, pos, len }
}

export function ex16(c: DnsCursor): number {
  if (c.len < 2) return 0
  const v = (c.buf[c.pos]! << 8) | c.buf[c.pos + 1]!
  c.pos += 2
  c.len -= 2
  return v
}

export function ex32(c: DnsCursor): number {
  if (c.len < 4) return 0
  const b = c.buf
  const p = c.pos
  const v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0
  c.pos += 4
  c.len -= 4
  return v
}

/** Skips up to `n` bytes (never past `len`); returns the skipped bytes as a view. */
export function exBytes(c: DnsCursor, n: number): Uint8Array {
  const k = Math.max(0, Math.min(c.len, n))
  const v = c.buf.subarray(c.pos, c.pos + k)
  c.pos += k
  c.len -= k
  return v
}

/** Moves forward `n` bytes unconditionally (Zeek's `data += n; len -= n`), clamped to the buffer. */
export function skip(c: DnsCursor, n: number): void {
  c.pos = Math.min(c.buf.length, c.pos + n)
  c.len -= n
}
