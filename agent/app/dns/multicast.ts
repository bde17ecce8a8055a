/** Zeek's DNS::multicast_subnets: 224.0.0.0/4 and ff00::/8. */
export function isMulticastAddr(addr: string): boolean {
  if (addr.includes(':')) {
    // /^ff/i without a regex.
    return addr.length >= 2 && (addr.charCodeAt(0) | 0x20) === 0x66 && (addr.charCodeAt(1) | 0x20) === 0x66
  }
  // The first dotted component as a number, without split(): plain digits are read in place
  // (once per DNS connection); anything else takes the general path.
  let first = 0
  let i = 0
  for (; i < addr.length; i++) {
    const c = addr.charCodeAt(i)
    if (c === 0x2e) break
    if (c < 0x30 || c > 0x39 || i >= 3) return slowMulticast4(addr)
    first = first * 10 + (c - 0x30)
  }
  if (i === 0) return slowMulticast4(addr)
  return first >= 224 && first <= 239
}

function slowMulticast4(addr: string): boolean {
  const first = Number(addr.split('.', 1)[0])
  return first >= 224 && first <= 239
}
