/**
 * Link-layer and encapsulation header builders for test fixtures. Pure functions: each
 * returns a new Buffer = header + payload. Defaults are realistic, every field overridable.
 */
import { parseIpv4, parseMac } from './inet-checksum.js'

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_ARP = 0x0806
export const ETHERTYPE_VLAN = 0x8100
export const ETHERTYPE_QINQ = 0x88a8
export const ETHERTYPE_IPV6 = 0x86dd
export const ETHERTYPE_MPLS = 0x8847
export const ETHERTYPE_PPPOE_SESSION = 0x8864

export interface VlanTag {
  id: number
  pcp?: number
  dei?: boolean
  /** TPID announcing this tag; 0x8100 by default, 0x88a8 for an 802.1ad outer tag. */
  tpid?: number
}

export interface EthernetOptions {
  src?: string
  dst?: string
  etherType: number
  /** Outermost first. A number is a plain 802.1Q tag. */
  vlans?: Array<number | VlanTag>
}

export function ethernet(opts: EthernetOptions, payload: Buffer): Buffer {
  const vlans = opts.vlans ?? []
  const hdrLen = 14 + 4 * vlans.length
  const out = Buffer.allocUnsafe(hdrLen + payload.length)
  parseMac(opts.dst ?? '02:00:00:00:00:02').copy(out, 0)
  parseMac(opts.src ?? '02:00:00:00:00:01').copy(out, 6)
  let off = 12
  for (const v of vlans) {
    const tag: VlanTag = typeof v === 'number' ? { id: v } : v
    out.writeUInt16BE(tag.tpid ?? ETHERTYPE_VLAN, off)
    out.writeUInt16BE(((tag.pcp ?? 0) << 13) | (tag.dei ? 0x1000 : 0) | (tag.id & 0xfff), off + 2)
    off += 4
  }
  out.writeUInt16BE(opts.etherType, off)
  payload.copy(out, hdrLen)
  return out
}

export interface SllOptions {
  /** 0 = to us, 1 = broadcast, 2 = multicast, 3 = to someone else, 4 = outgoing. */
  packetType?: number
  arphrd?: number
  /** Link-layer address (MAC string) of the sender. */
  addr?: string
  protocol: number
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16 bytes). */
export function linuxSll(opts: SllOptions, payload: Buffer): Buffer {
  const out = Buffer.alloc(16 + payload.length)
  out.writeUInt16BE(opts.packetType ?? 0, 0)
  out.writeUInt16BE(opts.arphrd ?? 1, 2)
  const addr = parseMac(opts.addr ?? '02:00:00:00:00:01')
  out.writeUInt16BE(addr.length, 4)
  addr.copy(out, 6)
  out.writeUInt16BE(opts.protocol, 14)
  payload.copy(out, 16)
  return out
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20 bytes). */
export function linuxSll2(opts: SllOptions & { ifIndex?: number }, payload: Buffer): Buffer {
  const out = Buffer.alloc(20 + payload.length)
  out.writeUInt16BE(opts.protocol, 0)
  out.writeUInt32BE(opts.ifIndex ?? 1, 4)
  out.writeUInt16BE(opts.arphrd ?? 1, 8)
  out[10] = opts.packetType ?? 0
  const addr = parseMac(opts.addr ?? '02:00:00:00:00:01')
  out[11] = addr.length
  addr.copy(out, 12)
  payload.copy(out, 20)
  return out
}

export const AF_INET = 2
/** BSD AF_INET6 values differ by OS: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
export const AF_INET6_BSD = 24

/** LINKTYPE_NULL: 4-byte address family in the capturing host's byte order (LE by default). */
export function bsdNull(family: number, payload: Buffer, opts: { bigEndian?: boolean } = {}): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length)
  if (opts.bigEndian) out.writeUInt32BE(family, 0)
  else out.writeUInt32LE(family, 0)
  payload.copy(out, 4)
  return out
}

/** LINKTYPE_LOOP (OpenBSD): 4-byte address family in network byte order. */
export function bsdLoop(family: number, payload: Buffer): Buffer {
  return bsdNull(family, payload, { bigEndian: true })
}

export interface MplsLabel {
  label: number
  tc?: number
  ttl?: number
}

/** MPLS label stack (outermost first); the last entry gets the bottom-of-stack bit. */
export function mpls(labels: Array<number | MplsLabel>, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 * labels.length + payload.length)
  labels.forEach((l, i) => {
    const e: MplsLabel = typeof l === 'number' ? { label: l } : l
    const bos = i === labels.length - 1 ? 1 : 0
    out.writeUInt32BE((((e.label & 0xfffff) << 12) | ((e.tc ?? 0) << 9) | (bos << 8) | (e.ttl ?? 64)) >>> 0, 4 * i)
  })
  payload.copy(out, 4 * labels.length)
  return out
}

export const PPP_IPV4 = 0x0021
export const PPP_IPV6 = 0x0057

/** PPPoE session header (ethertype 0x8864) followed by the 2-byte PPP protocol. */
export function pppoeSession(opts: { sessionId?: number, pppProtocol: number }, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length)
  out[0] = 0x11
  out[1] = 0
  out.writeUInt16BE(opts.sessionId ?? 1, 2)
  out.writeUInt16BE(payload.length + 2, 4)
  out.writeUInt16BE(opts.pppProtocol, 6)
  payload.copy(out, 8)
  return out
}

export interface ArpOptions {
  op: 'request' | 'reply'
  senderMac: string
  senderIp: string
  targetMac?: string
  targetIp: string
}

/** ARP for Ethernet/IPv4 (28 bytes); wrap with ethernet({ etherType: ETHERTYPE_ARP }). */
export function arp(opts: ArpOptions): Buffer {
  const out = Buffer.alloc(28)
  out.writeUInt16BE(1, 0)
  out.writeUInt16BE(ETHERTYPE_IPV4, 2)
  out[4] = 6
  out[5] = 4
  out.writeUInt16BE(opts.op === 'request' ? 1 : 2, 6)
  parseMac(opts.senderMac).copy(out, 8)
  parseIpv4(opts.senderIp).copy(out, 14)
  parseMac(opts.targetMac ?? '00:00:00:00:00:00').copy(out, 18)
  parseIpv4(opts.targetIp).copy(out, 24)
  return out
}
