/**
 * Postings values of the `fh` / `fv` / `fp` indexes: the ascending indexes of a segment's
 * flows as delta-coded unsigned varints (1 byte per flow for dense postings).
 */

/** Encodes ascending non-negative integers. */
export function encodePostings(ids: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(ids.length * 5)
  return out.subarray(0, writePostings(out, 0, ids))
}

/** Writes encodePostings's bytes into `out` from `at` (room for 5 bytes per id); returns the end. */
export function writePostings(out: Buffer, at: number, ids: readonly number[]): number {
  let pos = at
  let prev = 0
  for (let i = 0; i < ids.length; i++) {
    let d = ids[i]! - prev
    prev = ids[i]!
    while (d >= 0x80) {
      out[pos++] = (d & 0x7f) | 0x80
      d >>>= 7
    }
    out[pos++] = d
  }
  return pos
}

/** Decodes what encodePostings wrote; a truncated tail is ignored. */
export function decodePostings(buf: Uint8Array): number[] {
  const ids: number[] = []
  let prev = 0
  let pos = 0
  while (pos < buf.length) {
    let d = 0
    let shift = 0
    let byte: number
    do {
      if (pos >= buf.length || shift > 28) return ids
      byte = buf[pos++]!
      d |= (byte & 0x7f) << shift
      shift += 7
    } while (byte & 0x80)
    prev += d >>> 0
    ids.push(prev)
  }
  return ids
}
