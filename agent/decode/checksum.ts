/**
 * Internet checksums (RFC 1071) over buffer ranges, no allocation.
 * Returns true when the one's-complement sum including the transmitted checksum is 0xffff.
 */
export function onesComplementSum(buf: Buffer, off: number, len: number, initial: number): number {
  let sum = initial
  const end = off + len
  let i = off
  // Eight bytes per iteration (four 16-bit words); the partial sums stay far below 2^53, and
  // are folded every 64 KiB to stay in small-integer range.
  const end8 = end - 7
  while (i < end8) {
    const stop = Math.min(end8, i + 65536)
    let s = 0
    for (; i < stop; i += 8) {
      s += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!) +
        ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!)
    }
    sum += s
    sum = (sum & 0xffff) + Math.floor(sum / 65536)
  }
  while (i + 1 < end) {
    sum += (buf[i]! << 8) | buf[i + 1]!
    i += 2
  }
  if (i < end) sum += buf[i]! << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536)
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
