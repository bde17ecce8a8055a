/** Address text helpers of the topology (pure). */
import ipaddr from 'ipaddr.js'
import { ip4Text } from '../util/ip4-text.js'
import { ip6Text } from '../util/ip6-text.js'

/** Text of a 4- or 16-byte address ("" for other lengths). IPv4-mapped IPv6 stays IPv6 text. */
export function ipText(b: Uint8Array | null | undefined): string {
  if (b === null || b === undefined) return ''
  if (b.length === 4) return ip4Text(b[0]!, b[1]!, b[2]!, b[3]!)
  if (b.length === 16) return ip6Text(b)
  return ''
}

/** "aa:bb:cc:dd:ee:ff" of 6 bytes; "" otherwise. */
export function macText(b: Uint8Array | null | undefined): string {
  if (b === null || b === undefined || b.length !== 6) return ''
  let s = ''
  for (let i = 0; i < 6; i++) s += (i > 0 ? ':' : '') + b[i]!.toString(16).padStart(2, '0')
  return s
}

const PRIVATE_RANGES = new Set(['private', 'linkLocal', 'uniqueLocal', 'loopback', 'carrierGradeNat'])

/** RFC 1918 / link-local / ULA / loopback / CGNAT: addresses that repeat from site to site. */
export function isPrivateIp(ip: string): boolean {
  try {
    return PRIVATE_RANGES.has(ipaddr.parse(ip).range())
  } catch {
    return false
  }
}

/** Parses "a.b.c.d/len" or "v6/len" into the 16-byte [lo, hi] range (IPv4-mapped for IPv4). */
export function parseCidr16(text: string): { lo16: Buffer; hi16: Buffer; contains: (ip: string) => boolean } | undefined {
  let addr: ipaddr.IPv4 | ipaddr.IPv6
  let bits: number
  try {
    if (!text.includes('/')) {
      addr = ipaddr.parse(text)
      bits = addr.kind() === 'ipv4' ? 32 : 128
    } else {
      [addr, bits] = ipaddr.parseCIDR(text)
    }
  } catch {
    return undefined
  }
  const v4 = addr.kind() === 'ipv4'
  const bytes = v4 ? [...Array(10).fill(0), 0xff, 0xff, ...addr.toByteArray()] as number[] : addr.toByteArray()
  const total = v4 ? bits + 96 : bits
  const lo = Buffer.from(bytes)
  const hi = Buffer.from(bytes)
  for (let i = 0; i < 128; i++) {
    if (i < total) continue
    const byte = i >> 3
    const mask = 0x80 >> (i & 7)
    lo[byte] = lo[byte]! & ~mask
    hi[byte] = hi[byte]! | mask
  }
  const range: [ipaddr.IPv4 | ipaddr.IPv6, number] = [addr, bits]
  return {
    lo16: lo, hi16: hi,
    contains: (ip: string): boolean => {
      try {
        const a = ipaddr.parse(ip)
        return a.kind() === range[0].kind() && (a as ipaddr.IPv4).match(range as [ipaddr.IPv4, number])
      } catch {
        return false
      }
    },
  }
}

/** 16-byte form of an address text (IPv4-mapped for IPv4), or undefined. */
export function ip16OfText(text: string): Buffer | undefined {
  try {
    const a = ipaddr.parse(text)
    return a.kind() === 'ipv4' ? Buffer.from([...Array(10).fill(0), 0xff, 0xff, ...a.toByteArray()] as number[]) : Buffer.from(a.toByteArray())
  } catch {
    return undefined
  }
}
