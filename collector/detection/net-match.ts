/**
 * Address helpers for detection: IPv4 as unsigned numbers, a CIDR set (IPv4 and IPv6),
 * and text formatting of wire addresses. Pure; bad input gives `undefined`/false, never a throw.
 */
import ipaddr from 'ipaddr.js'
import { ip4Text } from '../util/ip4-text.js'
import { ip6Text } from '../util/ip6-text.js'

/** Dotted IPv4 text → unsigned 32-bit number, or -1. */
export function parseV4(s: string): number {
  let n = 0; let part = 0; let digits = 0; let dots = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || part > 255) return -1
      n = n * 256 + part; part = 0; digits = 0; dots++
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48); digits++
      if (digits > 3) return -1
    } else return -1
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1
  return n * 256 + part
}

export function v4Text(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** 4/16 wire bytes → text ('' for other lengths); IPv4-mapped IPv6 stays IPv6 text. */
export function addrText(b: Uint8Array): string {
  if (b.length === 4) return ip4Text(b[0]!, b[1]!, b[2]!, b[3]!)
  return b.length === 16 ? ip6Text(b) : ''
}

export function addrV4(b: Uint8Array): number {
  return b.length === 4 ? ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]! : -1
}

/** 6 wire bytes → 'aa:bb:cc:dd:ee:ff', '' otherwise. */
export function macText(b: Uint8Array): string {
  if (b.length !== 6) return ''
  return `${HEX[b[0]!]}:${HEX[b[1]!]}:${HEX[b[2]!]}:${HEX[b[3]!]}:${HEX[b[4]!]}:${HEX[b[5]!]}`
}

/** Broadcast or multicast MAC (group bit), or empty. */
export function isGroupMac(mac: string): boolean {
  if (mac.length !== 17) return true
  return (Number.parseInt(mac.slice(0, 2), 16) & 1) === 1
}

/** A set of CIDR ranges, both families. */
export class CidrSet {
  private readonly v4: Array<[number, number]> = []
  private readonly v6: Array<[ipaddr.IPv6, number]> = []
  /** The v6 nets as 16 bytes and a prefix length (hasAddr: no parse per address). */
  private readonly v6Bytes: Array<[Uint8Array, number]> = []
  readonly invalid: string[] = []

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) this.add(c)
  }

  add(cidr: string): boolean {
    try {
      const [addr, bits] = cidr.includes('/') ? ipaddr.parseCIDR(cidr) : [ipaddr.parse(cidr), -1]
      if (addr.kind() === 'ipv4') {
        const b = bits < 0 ? 32 : bits
        const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0
        this.v4.push([(parseV4(addr.toString()) & mask) >>> 0, mask])
      } else {
        this.v6.push([addr as ipaddr.IPv6, bits < 0 ? 128 : bits])
        this.v6Bytes.push([Uint8Array.from(addr.toByteArray()), bits < 0 ? 128 : bits])
      }
      return true
    } catch {
      this.invalid.push(cidr)
      return false
    }
  }

  get empty(): boolean { return this.v4.length === 0 && this.v6.length === 0 }

  hasV4(n: number): boolean {
    // Indexed, not for-of with destructuring: called for both sides of every flow (the
    // destructuring allocated on each call where the loop was not optimised).
    const v4 = this.v4
    for (let i = 0; i < v4.length; i++) { const e = v4[i]!; if (((n & e[1]) >>> 0) === e[0]) return true }
    return false
  }

  /** has() of a 16-byte address given as bytes (see hasAddr). */
  hasV6Bytes(b: Uint8Array): boolean {
    if (this.v6.length === 0) return false
    let mapped = b[10] === 0xff && b[11] === 0xff
    for (let i = 0; mapped && i < 10; i++) if (b[i] !== 0) mapped = false
    if (mapped) return this.hasV4(((b[12]! << 24) >>> 0) + (b[13]! << 16) + (b[14]! << 8) + b[15]!)
    for (const [net, bits] of this.v6Bytes) if (prefixEqual(b, net, bits)) return true
    return false
  }

  has(ip: string): boolean {
    const n = parseV4(ip)
    if (n >= 0) return this.hasV4(n)
    if (this.v6.length === 0) return false
    try {
      let a = ipaddr.parse(ip)
      if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) return this.hasV4(parseV4((a as ipaddr.IPv6).toIPv4Address().toString()))
      if (a.kind() !== 'ipv6') a = (a as ipaddr.IPv4).toIPv4MappedAddress()
      for (const [net, bits] of this.v6) if ((a as ipaddr.IPv6).match(net, bits)) return true
    } catch { /* not an address */ }
    return false
  }
}

/** The first `bits` bits of a[0, 16) and b[0, 16) are equal. */
function prefixEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  let i = 0
  for (; bits >= 8; bits -= 8, i++) if (a[i] !== b[i]) return false
  if (bits === 0) return true
  const mask = (0xff << (8 - bits)) & 0xff
  return (a[i]! & mask) === (b[i]! & mask)
}

/**
 * `set.has(addrText(b))` for wire bytes, without the text or a parse (hand-written: detection
 * asks this for both sides of every IPv6 flow, and ipaddr.js's parse was most of the cost).
 * Same answers: 4 bytes as IPv4; 16 bytes: no IPv6 nets → false, IPv4-mapped → its IPv4,
 * else a prefix match; other lengths (addrText gives "") → false.
 */
export function hasAddr(set: CidrSet, b: Uint8Array): boolean {
  if (b.length === 4) return set.hasV4(addrV4(b))
  if (b.length !== 16) return false
  return set.hasV6Bytes(b)
}

export const DEFAULT_LOCAL_NETS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', 'fc00::/7', 'fe80::/10']

/** 6 wire bytes → 48-bit number, -1 otherwise. */
export function macNumber(b: Uint8Array): number {
  if (b.length !== 6) return -1
  return ((b[0]! << 8) | b[1]!) * 0x1_0000_0000 + (((b[2]! << 24) >>> 0) + (b[3]! << 16) + (b[4]! << 8) + b[5]!)
}

/** Broadcast/multicast (group bit of the first octet) for a 48-bit MAC number. */
export function isGroupMacN(n: number): boolean {
  return n < 0 || (Math.floor(n / 0x100_0000_0000) & 1) === 1
}

/** 'aa:bb:cc:dd:ee:ff' → 48-bit number, -1 otherwise. */
export function macTextNumber(mac: string): number {
  if (mac.length !== 17) return -1
  const n = Number.parseInt(mac.replace(/:/g, ''), 16)
  return Number.isFinite(n) ? n : -1
}
