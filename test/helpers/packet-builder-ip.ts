/**
 * IPv4 and IPv6 header builders for test fixtures (header checksum computed; corruptible).
 */
import { foldChecksum, parseIpv4, parseIpv6, sum16 } from './inet-checksum.js'

export const IPPROTO_HOPOPTS = 0
export const IPPROTO_ICMP = 1
export const IPPROTO_IPIP = 4
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17
export const IPPROTO_IPV6 = 41
export const IPPROTO_ROUTING = 43
export const IPPROTO_FRAGMENT = 44
export const IPPROTO_GRE = 47
export const IPPROTO_ICMPV6 = 58
export const IPPROTO_NONE = 59
export const IPPROTO_DSTOPTS = 60

export interface Ipv4Options {
  src: string
  dst: string
  protocol: number
  ttl?: number
  id?: number
  tos?: number
  df?: boolean
  mf?: boolean
  /** Fragment offset in BYTES (must be a multiple of 8). */
  fragOffset?: number
  /** Raw option bytes, zero-padded to a multiple of 4. */
  options?: Buffer
  /** Override the total length field (to build inconsistent packets). */
  totalLength?: number
  badChecksum?: boolean
}

export function ipv4(opts: Ipv4Options, payload: Buffer): Buffer {
  const optLen = opts.options ? (opts.options.length + 3) & ~3 : 0
  const hdrLen = 20 + optLen
  const out = Buffer.alloc(hdrLen + payload.length)
  out[0] = 0x40 | (hdrLen >> 2)
  out[1] = opts.tos ?? 0
  out.writeUInt16BE(opts.totalLength ?? hdrLen + payload.length, 2)
  out.writeUInt16BE(opts.id ?? 0, 4)
  const frag = (opts.df ? 0x4000 : 0) | (opts.mf ? 0x2000 : 0) | (((opts.fragOffset ?? 0) >> 3) & 0x1fff)
  out.writeUInt16BE(frag, 6)
  out[8] = opts.ttl ?? 64
  out[9] = opts.protocol
  parseIpv4(opts.src).copy(out, 12)
  parseIpv4(opts.dst).copy(out, 16)
  if (opts.options) opts.options.copy(out, 20)
  let cs = foldChecksum(sum16(out, 0, hdrLen))
  if (opts.badChecksum) cs = (cs + 1) & 0xffff
  out.writeUInt16BE(cs, 10)
  payload.copy(out, hdrLen)
  return out
}

/**
 * Splits an already built L4 payload into IPv4 fragments carrying `fragSize` bytes each
 * (rounded down to a multiple of 8), all with the same id.
 */
export function ipv4Fragments(opts: Ipv4Options, l4: Buffer, fragSize: number): Buffer[] {
  const step = Math.max(8, fragSize & ~7)
  const out: Buffer[] = []
  for (let off = 0; off < l4.length; off += step) {
    const end = Math.min(l4.length, off + step)
    out.push(ipv4({ ...opts, fragOffset: off, mf: end < l4.length }, l4.subarray(off, end)))
  }
  return out
}

export type Ipv6ExtHeader =
  | { type: 'hop-by-hop' | 'destination', options?: Buffer }
  | { type: 'routing', routingType?: number, segmentsLeft?: number, addresses?: string[] }
  | { type: 'fragment', offset?: number, more?: boolean, id?: number }

export interface Ipv6Options {
  src: string
  dst: string
  /** Protocol of the payload after the last extension header. */
  nextHeader: number
  hopLimit?: number
  trafficClass?: number
  flowLabel?: number
  extHeaders?: Ipv6ExtHeader[]
  payloadLength?: number
}

function extHeaderCode(h: Ipv6ExtHeader): number {
  switch (h.type) {
    case 'hop-by-hop': return IPPROTO_HOPOPTS
    case 'destination': return IPPROTO_DSTOPTS
    case 'routing': return IPPROTO_ROUTING
    case 'fragment': return IPPROTO_FRAGMENT
  }
}

function encodeExtHeader(h: Ipv6ExtHeader, next: number): Buffer {
  if (h.type === 'fragment') {
    const b = Buffer.alloc(8)
    b[0] = next
    b.writeUInt16BE((((h.offset ?? 0) >> 3) << 3) | (h.more ? 1 : 0), 2)
    b.writeUInt32BE((h.id ?? 0) >>> 0, 4)
    return b
  }
  if (h.type === 'routing') {
    const addrs = h.addresses ?? []
    const b = Buffer.alloc(8 + 16 * addrs.length)
    b[0] = next
    b[1] = 2 * addrs.length
    b[2] = h.routingType ?? 0
    b[3] = h.segmentsLeft ?? addrs.length
    addrs.forEach((a, i) => parseIpv6(a).copy(b, 8 + 16 * i))
    return b
  }
  const opts = h.options ?? Buffer.alloc(0)
  const len = (2 + opts.length + 7) & ~7
  const b = Buffer.alloc(len)
  b[0] = next
  b[1] = len / 8 - 1
  opts.copy(b, 2)
  const pad = len - 2 - opts.length
  if (pad === 1) b[2 + opts.length] = 0 // Pad1
  else if (pad > 1) { b[2 + opts.length] = 1; b[3 + opts.length] = pad - 2 } // PadN
  return b
}

export function ipv6(opts: Ipv6Options, payload: Buffer): Buffer {
  const exts = opts.extHeaders ?? []
  const encoded: Buffer[] = []
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? extHeaderCode(exts[i + 1]!) : opts.nextHeader
    encoded.push(encodeExtHeader(exts[i]!, next))
  }
  const extLen = encoded.reduce((n, b) => n + b.length, 0)
  const out = Buffer.alloc(40 + extLen + payload.length)
  out.writeUInt32BE(((6 << 28) | ((opts.trafficClass ?? 0) << 20) | ((opts.flowLabel ?? 0) & 0xfffff)) >>> 0, 0)
  out.writeUInt16BE(opts.payloadLength ?? extLen + payload.length, 4)
  out[6] = exts.length > 0 ? extHeaderCode(exts[0]!) : opts.nextHeader
  out[7] = opts.hopLimit ?? 64
  parseIpv6(opts.src).copy(out, 8)
  parseIpv6(opts.dst).copy(out, 24)
  let off = 40
  for (const b of encoded) { b.copy(out, off); off += b.length }
  payload.copy(out, off)
  return out
}
