/**
 * Postings values of the `fh` / `fv` / `fp` indexes: the ascending indexes of a segment's
 * flows as delta-coded unsigned varints (1 byte per flow for dense postings).
 */

/** Encodes ascending non-negative integers. */
export function encodePostings(ids: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(ids.length * 5)
  let pos = 0
  let prev = 0
  for (const id of ids) {
    let d = id - prev
    prev = id
    while (d >= 0x80) {
      out[pos++] = (d & 0x7f) | 0x80
      d >>>= 7
    }
    out[pos++] = d
  }
  return out.subarray(0, pos)
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
