/**
 * Internet checksums (RFC 1071) over buffer ranges, no allocation.
 * Returns true when the one's-complement sum including the transmitted checksum is 0xffff.
 */
export function onesComplementSum(buf: Buffer, off: number, len: number, initial: number): number {
  let sum = initial
  const end = off + len
  let i = off
  // 16-bit big-endian words; fold every 32k words to keep the number in SMI range.
  while (i + 1 < end) {
    sum += (buf[i]! << 8) | buf[i + 1]!
    i += 2
    if (sum > 0x3fffffff) sum = (sum & 0xffff) + (sum >>> 16)
  }
  if (i < end) sum += buf[i]! << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return sum
}

export function ipv4HeaderChecksumOk(buf: Buffer, off: number, hdrLen: number): boolean {
  return onesComplementSum(buf, off, hdrLen, 0) === 0xffff
}

/**
 * TCP/UDP/ICMPv6 checksum with the IPv4 or IPv6 pseudo-header.
 * `l4Len` is the transport length per the IP header; the caller guarantees it was captured.
 */
export function transportChecksumOk(
  buf: Buffer, srcOff: number, dstOff: number, addrLen: number, proto: number, l4Off: number, l4Len: number,
): boolean {
  let sum = onesComplementSum(buf, srcOff, addrLen, 0)
  sum = onesComplementSum(buf, dstOff, addrLen, sum)
  sum += proto + (l4Len & 0xffff) + (l4Len >>> 16)
  return onesComplementSum(buf, l4Off, l4Len, sum) === 0xffff
}
