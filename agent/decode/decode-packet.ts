import type { AnomalyCounters } from './anomalies.js'
import { decodeEthertype, decodeLinkAt, NET_ARP, NET_GUESS, NET_IPV4, NET_IPV6, type LinkResult } from './link-layer.js'
import { decodeIpv4, decodeIpv6, type NetworkOptions } from './network-layer.js'
import type { PacketInfo } from './packet-info.js'
import { decodeTransport, L4_DROP } from './transport-layer.js'

/** Outcome of decoding one frame (or one inner packet of a tunnel). */
export const DECODE_FLOW = 0 // TCP/UDP/ICMP/other IP: goes to the flow table (see info + l4 status)
export const DECODE_DROP = 1 // counted anomaly
export const DECODE_ARP = 2
export const DECODE_FRAGMENT = 3 // an IP fragment: reassemble first

const scratch: LinkResult = { kind: 0, off: 0 }

/**
 * Decode a captured frame: link layer → network layer → (unless a fragment) transport.
 * `l4Status` receives decodeTransport's L4_* result. Pure apart from the anomaly counters.
 */
export function decodeFrame(linkType: number, buf: Buffer, snapCut: boolean, info: PacketInfo,
  anomalies: AnomalyCounters, opts: NetworkOptions, l4Status: { v: number }): number {
  return decodeFrameAt(linkType, buf, 0, buf.length, snapCut, info, anomalies, opts, l4Status)
}

/**
 * decodeFrame for a frame at buf[off, end) — no view per packet; every offset in `info` is
 * absolute within `buf` (the capture file's read buffer).
 */
export function decodeFrameAt(linkType: number, buf: Buffer, off: number, end: number, snapCut: boolean, info: PacketInfo,
  anomalies: AnomalyCounters, opts: NetworkOptions, l4Status: { v: number }): number {
  info.reset()
  info.l2Buf = buf
  if (!decodeLinkAt(linkType, buf, off, end, info, anomalies, scratch)) return DECODE_DROP
  return decodeNetwork(scratch.kind, buf, scratch.off, end, snapCut, info, anomalies, opts, l4Status)
}

/** Decode an inner Ethernet frame (VXLAN, GRE TEB) that starts at `off` within `buf`. */
export function decodeInnerEthernet(buf: Buffer, off: number, end: number, info: PacketInfo,
  anomalies: AnomalyCounters, opts: NetworkOptions, l4Status: { v: number }): number {
  const savedVlan = info.vlan
  const savedInner = info.innerVlan
  info.reset()
  info.vlan = savedVlan
  info.innerVlan = savedInner
  info.l2Buf = buf
  if (end - off < 14) { anomalies.inc('truncated_link_header'); return DECODE_DROP }
  info.dstMacOff = off
  info.srcMacOff = off + 6
  if (!decodeEthertype(buf, off + 12, off + 14, end, info, anomalies, scratch)) return DECODE_DROP
  return decodeNetwork(scratch.kind, buf, scratch.off, end, false, info, anomalies, opts, l4Status)
}

/** Decode an inner IP packet (GRE, IP-in-IP, Teredo, reassembled datagram) at `off`. */
export function decodeInnerIp(buf: Buffer, off: number, end: number, info: PacketInfo,
  anomalies: AnomalyCounters, opts: NetworkOptions, l4Status: { v: number }): number {
  const savedVlan = info.vlan
  const savedInner = info.innerVlan
  const l2 = info.l2Buf
  const s = info.srcMacOff
  const d = info.dstMacOff
  info.reset()
  info.vlan = savedVlan
  info.innerVlan = savedInner
  info.l2Buf = l2
  info.srcMacOff = s
  info.dstMacOff = d
  return decodeNetwork(NET_GUESS, buf, off, end, false, info, anomalies, opts, l4Status)
}

function decodeNetwork(kind: number, buf: Buffer, off: number, end: number, snapCut: boolean, info: PacketInfo,
  anomalies: AnomalyCounters, opts: NetworkOptions, l4Status: { v: number }): number {
  if (kind === NET_GUESS) {
    if (off >= end) { anomalies.inc('truncated_IP'); return DECODE_DROP }
    const v = buf[off]! >> 4
    kind = v === 4 ? NET_IPV4 : v === 6 ? NET_IPV6 : -1
    if (kind < 0) { anomalies.inc('bad_IP_version'); return DECODE_DROP }
  }
  if (kind === NET_ARP) {
    if (end - off < 28) { anomalies.inc('truncated_ARP'); return DECODE_DROP }
    info.isArp = true
    info.arpOff = off
    info.buf = buf
    return DECODE_ARP
  }
  const ok = kind === NET_IPV4
    ? decodeIpv4(buf, off, end - off, snapCut, info, anomalies, opts)
    : decodeIpv6(buf, off, end - off, snapCut, info, anomalies)
  if (!ok) return DECODE_DROP
  if (info.isFragment) return DECODE_FRAGMENT
  l4Status.v = decodeTransport(info, anomalies, opts)
  return l4Status.v === L4_DROP ? DECODE_DROP : DECODE_FLOW
}
