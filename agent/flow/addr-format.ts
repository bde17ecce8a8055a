/** Format 4 or 16 address bytes the way Zeek prints `addr` values (inet_ntop style, RFC 5952). */
export function formatAddr(buf: Uint8Array, off: number, len: number): string {
  if (len === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`
  const words: number[] = new Array<number>(8)
  for (let i = 0; i < 8; i++) words[i] = (buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms as inet_ntop prints them.
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return `::ffff:${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`
  }
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i }
    i = j
  }
  let out = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':'
      i += bestLen - 1
      continue
    }
    out += words[i]!.toString(16)
    if (i < 7) out += ':'
  }
  return out
}

export function formatMac(buf: Uint8Array, off: number): string {
  let s = ''
  for (let i = 0; i < 6; i++) {
    const b = buf[off + i]!
    s += (b < 16 ? '0' : '') + b.toString(16)
    if (i < 5) s += ':'
  }
  return s
}
