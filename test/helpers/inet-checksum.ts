/**
 * Internet checksum (RFC 1071) and address parsing shared by the test packet builders.
 * Sums are kept unfolded as plain numbers (exact below 2^53) and folded once at the end.
 */

/** Adds the 16-bit big-endian words of buf[start, end) to acc (odd tail padded with zero). */
export function sum16(buf: Uint8Array, start: number, end: number, acc = 0): number {
  let i = start
  for (; i + 1 < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!
  if (i < end) acc += buf[i]! << 8
  return acc
}

/** Folds an unfolded sum and returns the one's-complement checksum. */
export function foldChecksum(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536)
  return ~acc & 0xffff
}

/** Unfolded pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 (4-byte addrs) or IPv6 (16-byte). */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, l4Length: number): number {
  let acc = sum16(src, 0, src.length) + sum16(dst, 0, dst.length) + proto
  if (src.length === 4) acc += l4Length
  else acc += Math.floor(l4Length / 65536) + (l4Length & 0xffff)
  return acc
}

export function parseIpv4(s: string): Buffer {
  const parts = s.split('.')
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${s}`)
  const out = Buffer.alloc(4)
  for (let i = 0; i < 4; i++) {
    const v = Number(parts[i])
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`not an IPv4 address: ${s}`)
    out[i] = v
  }
  return out
}

export function parseIpv6(s: string): Buffer {
  const out = Buffer.alloc(16)
  let str = s
  // Embedded IPv4 tail (::ffff:1.2.3.4).
  const lastColon = str.lastIndexOf(':')
  let tail: Buffer | null = null
  if (str.indexOf('.', lastColon) !== -1) {
    tail = parseIpv4(str.slice(lastColon + 1))
    str = str.slice(0, lastColon + 1) + '0:0'
  }
  const halves = str.split('::')
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${s}`)
  const head = halves[0] === '' ? [] : halves[0]!.split(':')
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : []
  const groups = halves.length === 2
    ? [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest]
    : head
  if (groups.length !== 8) throw new Error(`not an IPv6 address: ${s}`)
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i]!, 16)
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i]!)) throw new Error(`not an IPv6 address: ${s}`)
    out.writeUInt16BE(v, i * 2)
  }
  if (tail) tail.copy(out, 12)
  return out
}

/** Parses either family; IPv6 when the text contains ':'. */
export function parseIp(s: string): Buffer {
  return s.includes(':') ? parseIpv6(s) : parseIpv4(s)
}

export function parseMac(s: string): Buffer {
  const parts = s.split(/[:-]/)
  if (parts.length !== 6) throw new Error(`not a MAC address: ${s}`)
  return Buffer.from(parts.map((p) => parseInt(p, 16)))
}
