/**
 * Longest-prefix match over IPv4 and IPv6 indicators, compact enough for millions of
 * entries: per prefix length, a sorted typed array of network addresses with a parallel
 * array of label ids (binary search per present length, longest first). For 1M IPv4
 * addresses that is 8 bytes per entry (two Uint32Array), against ~40+ bytes per node of a
 * pointer-based binary trie — the layout of a level-compressed radix table flattened
 * into arrays. IPv6 keys are the masked address as 32 hex digits in one Map per length.
 * Build with add(), then seal(); lookups before seal() find nothing.
 */
import ipaddr from 'ipaddr.js'
import { parseV4 } from '../detection/net-match.js'

interface V4Level { nets: Uint32Array; labels: Uint32Array }

export class IpPrefixTable {
  private pending4: Array<{ nets: number[]; labels: number[] }> = Array.from({ length: 33 }, () => ({ nets: [], labels: [] }))
  private levels4: Array<V4Level | undefined> = []
  private lengths4: number[] = []
  private readonly v6 = new Map<number, Map<string, number>>()
  private lengths6: number[] = []
  private count = 0

  get size(): number { return this.count }

  /** `addr` is an address or CIDR text (normalised by classify-value). */
  add(addrOrCidr: string, label: number): boolean {
    const slash = addrOrCidr.indexOf('/')
    const addr = slash === -1 ? addrOrCidr : addrOrCidr.slice(0, slash)
    const v4 = parseV4(addr)
    if (v4 >= 0) {
      const bits = slash === -1 ? 32 : Number(addrOrCidr.slice(slash + 1))
      if (!(bits >= 0 && bits <= 32)) return false
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
      const p = this.pending4[bits]!
      p.nets.push((v4 & mask) >>> 0)
      p.labels.push(label)
      this.count++
      return true
    }
    try {
      const a = ipaddr.parse(addr)
      if (a.kind() !== 'ipv6') return false
      const bits = slash === -1 ? 128 : Number(addrOrCidr.slice(slash + 1))
      if (!(bits >= 0 && bits <= 128)) return false
      let m = this.v6.get(bits)
      if (m === undefined) { m = new Map(); this.v6.set(bits, m) }
      m.set(masked6(a as ipaddr.IPv6, bits), label)
      this.count++
      return true
    } catch { return false }
  }

  seal(): void {
    this.levels4 = []
    this.lengths4 = []
    for (let bits = 32; bits >= 0; bits--) {
      const p = this.pending4[bits]!
      if (p.nets.length === 0) continue
      const idx = Array.from(p.nets.keys()).sort((a, b) => p.nets[a]! - p.nets[b]!)
      const nets = new Uint32Array(idx.length)
      const labels = new Uint32Array(idx.length)
      for (let i = 0; i < idx.length; i++) { nets[i] = p.nets[idx[i]!]!; labels[i] = p.labels[idx[i]!]! }
      this.levels4[bits] = { nets, labels }
      this.lengths4.push(bits)
    }
    this.pending4 = Array.from({ length: 33 }, () => ({ nets: [], labels: [] }))
    this.lengths6 = [...this.v6.keys()].sort((a, b) => b - a)
  }

  /** Label id and prefix length of the longest match for an IPv4 number, or undefined. */
  lookupV4(n: number): { label: number; bits: number } | undefined {
    for (const bits of this.lengths4) {
      const lv = this.levels4[bits]!
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
      const key = (n & mask) >>> 0
      let lo = 0; let hi = lv.nets.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1
        const v = lv.nets[mid]!
        if (v === key) return { label: lv.labels[mid]!, bits }
        if (v < key) lo = mid + 1
        else hi = mid - 1
      }
    }
    return undefined
  }

  lookup(ip: string): { label: number; bits: number } | undefined {
    const n = parseV4(ip)
    if (n >= 0) return this.lookupV4(n)
    if (this.lengths6.length === 0) return undefined
    try {
      const a = ipaddr.parse(ip)
      if (a.kind() !== 'ipv6') return undefined
      const v6 = a as ipaddr.IPv6
      if (v6.isIPv4MappedAddress()) return this.lookupV4(parseV4(v6.toIPv4Address().toString()))
      for (const bits of this.lengths6) {
        const l = this.v6.get(bits)!.get(masked6(v6, bits))
        if (l !== undefined) return { label: l, bits }
      }
    } catch { /* not an address */ }
    return undefined
  }

  /** Approximate bytes held (typed arrays + IPv6 maps). */
  bytes(): number {
    let b = 0
    for (const lv of this.levels4) if (lv) b += lv.nets.byteLength + lv.labels.byteLength
    for (const m of this.v6.values()) b += m.size * 80
    return b
  }
}

function masked6(a: ipaddr.IPv6, bits: number): string {
  const bytes = a.toByteArray()
  let s = ''
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8))
    const m = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff
    s += (bytes[i]! & m).toString(16).padStart(2, '0')
  }
  return s
}
