/**
 * Text of a 16-byte IPv6 address as ipaddr.js's `IPv6.toString()` writes it (RFC 5952:
 * lower-case hex groups without leading zeros, the longest run of two or more zero groups —
 * the leftmost of equal runs — as "::", no dotted IPv4 tail). Hand-written because the merge
 * and detection render an address per IPv6 flow side, and ipaddr.js builds an object, a
 * parts array and runs two regular expressions for each. Pure; reads b[off, off + 16).
 */
export function ip6Text(b: Uint8Array, off = 0): string {
  const g = [0, 0, 0, 0, 0, 0, 0, 0]
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) { bestAt = i; bestLen = j - i }
    i = j
  }
  let s = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      s += '::'
      i += bestLen - 1
      continue
    }
    if (i > 0 && i !== bestAt + bestLen) s += ':'
    s += g[i]!.toString(16)
  }
  return s
}
