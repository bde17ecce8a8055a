/**
 * Transport and tunnel builders for test fixtures. TCP/UDP/ICMPv6 checksums use the
 * pseudo-header from `src`/`dst` (IPv4 or IPv6 text; for IPv6 with a routing header pass
 * the final destination). Checksums are correct unless `badChecksum` is set.
 */
import { foldChecksum, parseIp, pseudoHeaderSum, sum16 } from './inet-checksum.js'
import { ETHERTYPE_IPV4 } from './packet-builder-l2.js'
import { IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './packet-builder-ip.js'

export const TCP_FIN = 0x01
export const TCP_SYN = 0x02
export const TCP_RST = 0x04
export const TCP_PSH = 0x08
export const TCP_ACK = 0x10
export const TCP_URG = 0x20
export const TCP_ECE = 0x40
export const TCP_CWR = 0x80

/** 'S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', ... (F S R P A U E C; '' or '.' = no flags). */
export function tcpFlags(s: string): number {
  let f = 0
  for (const ch of s) {
    switch (ch) {
      case 'F': f |= TCP_FIN; break
      case 'S': f |= TCP_SYN; break
      case 'R': f |= TCP_RST; break
      case 'P': f |= TCP_PSH; break
      case 'A': f |= TCP_ACK; break
      case 'U': f |= TCP_URG; break
      case 'E': f |= TCP_ECE; break
      case 'C': f |= TCP_CWR; break
      case '.': break
      default: throw new Error(`unknown TCP flag letter '${ch}' in '${s}'`)
    }
  }
  return f
}

export type TcpOption =
  | { kind: 'mss', value: number }
  | { kind: 'wscale', value: number }
  | { kind: 'sackOk' }
  | { kind: 'ts', val: number, ecr: number }
  | { kind: 'nop' }

export function encodeTcpOptions(opts: TcpOption[]): Buffer {
  const parts: number[] = []
  for (const o of opts) {
    switch (o.kind) {
      case 'mss': parts.push(2, 4, (o.value >> 8) & 0xff, o.value & 0xff); break
      case 'wscale': parts.push(3, 3, o.value); break
      case 'sackOk': parts.push(4, 2); break
      case 'nop': parts.push(1); break
      case 'ts': {
        const b = Buffer.alloc(10)
        b[0] = 8; b[1] = 10
        b.writeUInt32BE(o.val >>> 0, 2); b.writeUInt32BE(o.ecr >>> 0, 6)
        parts.push(...b)
        break
      }
    }
  }
  while (parts.length % 4 !== 0) parts.push(0)
  return Buffer.from(parts)
}

export interface L4Addresses {
  src: string
  dst: string
}

export interface TcpOptions extends L4Addresses {
  sport: number
  dport: number
  seq?: number
  ack?: number
  flags?: string | number
  window?: number
  urgent?: number
  options?: Buffer | TcpOption[]
  badChecksum?: boolean
}

function finishChecksum(out: Buffer, csOff: number, pseudo: number, bad: boolean | undefined, zeroMeansNone: boolean): void {
  let cs = foldChecksum(sum16(out, 0, out.length, pseudo))
  if (zeroMeansNone && cs === 0) cs = 0xffff
  if (bad) {
    cs ^= 0x00ff
    if (cs === 0) cs = 0x0100 // never 0: for UDP that would mean "no checksum"
  }
  out.writeUInt16BE(cs, csOff)
}

export function tcp(opts: TcpOptions, payload: Buffer = Buffer.alloc(0)): Buffer {
  const rawOpts = opts.options === undefined ? Buffer.alloc(0)
    : Buffer.isBuffer(opts.options) ? opts.options : encodeTcpOptions(opts.options)
  const optLen = (rawOpts.length + 3) & ~3
  const hdrLen = 20 + optLen
  const out = Buffer.alloc(hdrLen + payload.length)
  out.writeUInt16BE(opts.sport, 0)
  out.writeUInt16BE(opts.dport, 2)
  out.writeUInt32BE((opts.seq ?? 0) >>> 0, 4)
  out.writeUInt32BE((opts.ack ?? 0) >>> 0, 8)
  const flags = typeof opts.flags === 'number' ? opts.flags : tcpFlags(opts.flags ?? 'A')
  out.writeUInt16BE(((hdrLen / 4) << 12) | flags, 12)
  out.writeUInt16BE(opts.window ?? 65535, 14)
  out.writeUInt16BE(opts.urgent ?? 0, 18)
  rawOpts.copy(out, 20)
  payload.copy(out, hdrLen)
  const pseudo = pseudoHeaderSum(parseIp(opts.src), parseIp(opts.dst), IPPROTO_TCP, out.length)
  finishChecksum(out, 16, pseudo, opts.badChecksum, false)
  return out
}

export interface UdpOptions extends L4Addresses {
  sport: number
  dport: number
  badChecksum?: boolean
  /** IPv4 only: send checksum 0 (not computed). */
  noChecksum?: boolean
}

export function udp(opts: UdpOptions, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(8 + payload.length)
  out.writeUInt16BE(opts.sport, 0)
  out.writeUInt16BE(opts.dport, 2)
  out.writeUInt16BE(out.length & 0xffff, 4)
  payload.copy(out, 8)
  if (opts.noChecksum) return out
  const pseudo = pseudoHeaderSum(parseIp(opts.src), parseIp(opts.dst), IPPROTO_UDP, out.length)
  finishChecksum(out, 6, pseudo, opts.badChecksum, true)
  return out
}

export interface IcmpOptions {
  type: number
  code?: number
  /** Echo identifier / sequence (the 4 "rest of header" bytes); ignored when `rest` is set. */
  id?: number
  seq?: number
  rest?: Buffer
  badChecksum?: boolean
}

function icmpCommon(opts: IcmpOptions, payload: Buffer): Buffer {
  const out = Buffer.alloc(8 + payload.length)
  out[0] = opts.type
  out[1] = opts.code ?? 0
  if (opts.rest) opts.rest.copy(out, 4, 0, 4)
  else { out.writeUInt16BE(opts.id ?? 0, 4); out.writeUInt16BE(opts.seq ?? 0, 6) }
  payload.copy(out, 8)
  return out
}

export function icmp(opts: IcmpOptions, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = icmpCommon(opts, payload)
  finishChecksum(out, 2, 0, opts.badChecksum, false)
  return out
}

export function icmpv6(opts: IcmpOptions & L4Addresses, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = icmpCommon(opts, payload)
  const pseudo = pseudoHeaderSum(parseIp(opts.src), parseIp(opts.dst), IPPROTO_ICMPV6, out.length)
  finishChecksum(out, 2, pseudo, opts.badChecksum, false)
  return out
}

export interface GreOptions {
  /** Ethertype of the payload (0x0800 IPv4, 0x86dd IPv6, 0x6558 transparent Ethernet). */
  protocol?: number
  key?: number
  seq?: number
  /** Include the checksum field (C bit) computed over GRE header + payload. */
  checksum?: boolean
}

export function gre(opts: GreOptions, payload: Buffer): Buffer {
  const hasC = opts.checksum === true
  const hasK = opts.key !== undefined
  const hasS = opts.seq !== undefined
  const hdrLen = 4 + (hasC ? 4 : 0) + (hasK ? 4 : 0) + (hasS ? 4 : 0)
  const out = Buffer.alloc(hdrLen + payload.length)
  out.writeUInt16BE((hasC ? 0x8000 : 0) | (hasK ? 0x2000 : 0) | (hasS ? 0x1000 : 0), 0)
  out.writeUInt16BE(opts.protocol ?? ETHERTYPE_IPV4, 2)
  let off = 4
  const csOff = off
  if (hasC) off += 4
  if (hasK) { out.writeUInt32BE(opts.key! >>> 0, off); off += 4 }
  if (hasS) { out.writeUInt32BE(opts.seq! >>> 0, off); off += 4 }
  payload.copy(out, hdrLen)
  if (hasC) out.writeUInt16BE(foldChecksum(sum16(out, 0, out.length)), csOff)
  return out
}

export const VXLAN_PORT = 4789
export const TEREDO_PORT = 3544

/** VXLAN header (8 bytes, I flag set) + inner Ethernet frame. */
export function vxlanHeader(vni: number, innerFrame: Buffer): Buffer {
  const out = Buffer.alloc(8 + innerFrame.length)
  out[0] = 0x08
  out.writeUInt32BE(((vni & 0xffffff) << 8) >>> 0, 4)
  innerFrame.copy(out, 8)
  return out
}

/** UDP datagram to port 4789 carrying a VXLAN header and the inner Ethernet frame. */
export function vxlanUdp(opts: L4Addresses & { vni: number, sport?: number, dport?: number }, innerFrame: Buffer): Buffer {
  return udp({ src: opts.src, dst: opts.dst, sport: opts.sport ?? 49152, dport: opts.dport ?? VXLAN_PORT },
    vxlanHeader(opts.vni, innerFrame))
}

/** UDP datagram (Teredo, port 3544) carrying a whole IPv6 packet. */
export function teredoUdp(opts: L4Addresses & { sport?: number, dport?: number }, ipv6Packet: Buffer): Buffer {
  return udp({ src: opts.src, dst: opts.dst, sport: opts.sport ?? 49153, dport: opts.dport ?? TEREDO_PORT }, ipv6Packet)
}
