/**
 * All indicators of one feed, indexed for matching: addresses/CIDRs in an IpPrefixTable,
 * domains in a Map looked up by every parent suffix (a domain indicator matches its
 * subdomains), URLs, JA3/JA4 and certificate hashes in Maps. Labels are interned (feeds
 * repeat the same few descriptions), so an indicator costs its key plus a number.
 * Immutable once sealed: a reload builds a new index and swaps it in.
 */
import type { Indicator, IndicatorKind } from './indicator-types.js'
import { IpPrefixTable } from './ip-prefix-table.js'
import { normaliseUrl } from './classify-value.js'

export class IndicatorIndex {
  readonly ips = new IpPrefixTable()
  private readonly exact = new Map<IndicatorKind, Map<string, number>>()
  private readonly labels: string[] = []
  private readonly labelIds = new Map<string, number>()
  readonly counts: Record<IndicatorKind, number> = { ip: 0, cidr: 0, domain: 0, url: 0, ja3: 0, ja4: 0, cert_hash: 0 }

  private sealed = false

  /** Call seal() after the last add(); lookups of addresses need it. */
  seal(): this {
    this.ips.seal()
    this.sealed = true
    return this
  }

  get isSealed(): boolean { return this.sealed }

  private labelId(label: string): number {
    let id = this.labelIds.get(label)
    if (id === undefined) { id = this.labels.length; this.labels.push(label); this.labelIds.set(label, id) }
    return id
  }

  add(ind: Indicator): void {
    const l = this.labelId(ind.label)
    if (ind.kind === 'ip' || ind.kind === 'cidr') {
      if (this.ips.add(ind.value, l)) this.counts[ind.kind]++
      return
    }
    let m = this.exact.get(ind.kind)
    if (m === undefined) { m = new Map(); this.exact.set(ind.kind, m) }
    if (!m.has(ind.value)) this.counts[ind.kind]++
    m.set(ind.value, l)
  }

  get size(): number {
    let n = 0
    for (const v of Object.values(this.counts)) n += v
    return n
  }

  label(id: number): string { return this.labels[id] ?? '' }

  /**
   * An IPv4 address as its unsigned number. `text`: the address as the caller writes it, the
   * indicator of an exact match; omitted, the dotted text of `n` (built only on a match).
   */
  matchIpV4(n: number, text?: string): { indicator: string; label: string; kind: IndicatorKind } | undefined {
    const r = this.ips.lookupV4(n)
    if (r === undefined) return undefined
    return { indicator: r.bits === 32 ? text ?? maskText(n, 32) : `${maskText(n, r.bits)}/${r.bits}`, label: this.label(r.label), kind: r.bits === 32 ? 'ip' : 'cidr' }
  }

  matchIp(ip: string): { indicator: string; label: string; kind: IndicatorKind } | undefined {
    const r = this.ips.lookup(ip)
    if (r === undefined) return undefined
    const full = ip.includes(':') ? 128 : 32
    return { indicator: r.bits === full ? ip : `${ip}/${r.bits} (prefix)`, label: this.label(r.label), kind: r.bits === full ? 'ip' : 'cidr' }
  }

  /** The domain itself or its closest listed parent. */
  matchDomain(name: string): { indicator: string; label: string; kind: IndicatorKind } | undefined {
    const m = this.exact.get('domain')
    if (m === undefined || name === '') return undefined
    let d = name.toLowerCase()
    if (d.endsWith('.')) d = d.slice(0, -1)
    for (;;) {
      const l = m.get(d)
      if (l !== undefined) return { indicator: d, label: this.label(l), kind: 'domain' }
      const dot = d.indexOf('.')
      if (dot === -1) return undefined
      d = d.slice(dot + 1)
    }
  }

  matchUrl(url: string): { indicator: string; label: string; kind: IndicatorKind } | undefined {
    const m = this.exact.get('url')
    if (m === undefined) return undefined
    const u = normaliseUrl(url)
    if (u === undefined) return undefined
    const l = m.get(u)
    return l === undefined ? undefined : { indicator: u, label: this.label(l), kind: 'url' }
  }

  matchHash(kind: 'ja3' | 'ja4' | 'cert_hash', value: string): { indicator: string; label: string; kind: IndicatorKind } | undefined {
    const m = this.exact.get(kind)
    if (m === undefined) return undefined
    const v = value.toLowerCase()
    const l = m.get(v)
    return l === undefined ? undefined : { indicator: v, label: this.label(l), kind }
  }
}

function maskText(n: number, bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  const v = (n & mask) >>> 0
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
}
