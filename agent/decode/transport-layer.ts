import { u16, u32 } from './bytes.js'
import type { AnomalyCounters } from './anomalies.js'
import { transportChecksumOk } from './checksum.js'
import type { NetworkOptions } from './network-layer.js'
import { TUNNEL_GRE, TUNNEL_IP_IN_IP, TUNNEL_TEREDO, TUNNEL_VXLAN, type PacketInfo } from './packet-info.js'

export const PROTO_ICMP = 1
export const PROTO_IPIP = 4
export const PROTO_TCP = 6
export const PROTO_UDP = 17
export const PROTO_IPV6 = 41
export const PROTO_GRE = 47
export const PROTO_ICMPV6 = 58

export const VXLAN_PORT = 4789
export const TEREDO_PORT = 3544

/** Result of transport decoding. */
export const L4_OK = 0
/** Counted anomaly: the packet is not usable as a flow packet. */
export const L4_DROP = 1
/** Checksum failed: the flow layer still sees the packet (Zeek counts it in history 'C'). */
export const L4_BAD_CHECKSUM = 2
/** Tunnel without a flow of its own (GRE, IP-in-IP): only the inner packet matters. */
export const L4_TUNNEL_ONLY = 3
/** Not TCP/UDP/ICMP: an "unknown_transport" packet. */
export const L4_OTHER = 4

/**
 * Transport header at info.l4Off. Sets ports/flags/payload, and for encapsulations
 * (GRE, IP-in-IP, VXLAN, Teredo) the inner offset in info.tunnelType/innerOff.
 */
export function decodeTransport(info: PacketInfo, anomalies: AnomalyCounters, opts: NetworkOptions): number {
  const buf = info.buf
  const off = info.l4Off
  const cap = info.l4CapLen
  const len = info.l4Len
  switch (info.ipProto) {
    case PROTO_TCP: {
      if (cap < 20 || len < 20) { anomalies.inc(len < 20 ? 'truncated_header' : 'internally_truncated_header'); return L4_DROP }
      const hdr = (buf[off + 12]! >> 4) * 4
      if (hdr < 20) { anomalies.inc('bad_TCP_header_len'); return L4_DROP }
      if (hdr > len || hdr > cap) { anomalies.inc('truncated_header'); return L4_DROP }
      info.sport = u16(buf, off)
      info.dport = u16(buf, off + 2)
      info.seq = u32(buf, off + 4)
      info.ack = u32(buf, off + 8)
      info.tcpFlags = buf[off + 13]!
      info.window = u16(buf, off + 14)
      info.tcpHdrLen = hdr
      info.payloadOff = off + hdr
      info.payloadLen = len - hdr
      if (!opts.ignoreChecksums && cap >= len &&
        !transportChecksumOk(buf, info.srcAddrOff, info.dstAddrOff, info.addrLen, PROTO_TCP, off, len)) {
        anomalies.inc('bad_TCP_checksum')
        return L4_BAD_CHECKSUM
      }
      return L4_OK
    }
    case PROTO_UDP: {
      if (len < 8) { anomalies.inc('truncated_header'); return L4_DROP }
      if (cap < 8) { anomalies.inc('internally_truncated_header'); return L4_DROP }
      info.sport = u16(buf, off)
      info.dport = u16(buf, off + 2)
      const ulen = u16(buf, off + 4)
      info.udpLen = ulen
      if (ulen !== len) anomalies.inc('UDP_datagram_length_mismatch')
      info.payloadOff = off + 8
      info.payloadLen = Math.max(0, ulen - 8)
      const sum = u16(buf, off + 6)
      let bad = false
      if (!opts.ignoreChecksums && cap >= len && (sum !== 0 || info.ipVersion === 6)) {
        // VXLAN senders may leave the checksum zero (accepted above) — RFC 7348.
        bad = !transportChecksumOk(buf, info.srcAddrOff, info.dstAddrOff, info.addrLen, PROTO_UDP, off, len)
      }
      if (bad) { anomalies.inc('bad_UDP_checksum'); return L4_BAD_CHECKSUM }
      detectUdpTunnel(info)
      return L4_OK
    }
    case PROTO_ICMP:
    case PROTO_ICMPV6: {
      if (len < 8 || cap < 8) { anomalies.inc('truncated_header'); return L4_DROP }
      info.icmpType = buf[off]!
      info.icmpCode = buf[off + 1]!
      info.payloadOff = off + 8
      info.payloadLen = len - 8
      if (!opts.ignoreChecksums && cap >= len) {
        const ok = info.ipProto === PROTO_ICMP
          ? transportChecksumOkPlain(buf, off, len)
          : transportChecksumOk(buf, info.srcAddrOff, info.dstAddrOff, 16, PROTO_ICMPV6, off, len)
        if (!ok) { anomalies.inc('bad_ICMP_checksum'); return L4_BAD_CHECKSUM }
      }
      return L4_OK
    }
    case PROTO_GRE:
      return decodeGre(info, anomalies)
    case PROTO_IPIP:
    case PROTO_IPV6:
      info.tunnelType = TUNNEL_IP_IN_IP
      info.innerOff = off
      info.innerIsEthernet = false
      return L4_TUNNEL_ONLY
    default:
      return L4_OTHER
  }
}

function transportChecksumOkPlain(buf: Buffer, off: number, len: number): boolean {
  let sum = 0
  let i = off
  const end = off + len
  while (i + 1 < end) { sum += (buf[i]! << 8) | buf[i + 1]!; i += 2 }
  if (i < end) sum += buf[i]! << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return sum === 0xffff
}

function detectUdpTunnel(info: PacketInfo): void {
  const buf = info.buf
  const p = info.payloadOff
  const avail = info.l4Off + info.l4CapLen - p
  if (info.dport === VXLAN_PORT && avail >= 8 + 14 && (buf[p]! & 0x08) !== 0) {
    info.tunnelType = TUNNEL_VXLAN
    info.innerOff = p + 8
    info.innerIsEthernet = true
    return
  }
  if ((info.sport === TEREDO_PORT || info.dport === TEREDO_PORT) && avail >= 40) {
    let q = p
    // Optional authentication (0x0001) and origin indication (0x0000) headers.
    if (buf[q] === 0 && buf[q + 1] === 1 && q + 13 <= p + avail) {
      q += 13 + buf[q + 2]! + buf[q + 3]!
    }
    if (q + 8 <= p + avail && buf[q] === 0 && buf[q + 1] === 0) q += 8
    if (q + 40 <= p + avail && buf[q]! >> 4 === 6) {
      const plen = u16(buf, q + 4)
      const nh = buf[q + 6]!
      // Zeek's sanity check: the inner IPv6 length must match what the datagram carries.
      if (q + 40 + plen === p + avail && (nh === 59 || nh === 58 || nh === 6 || nh === 17 || nh === 0 || nh === 43 || nh === 44 || nh === 60)) {
        info.tunnelType = TUNNEL_TEREDO
        info.innerOff = q
        info.innerIsEthernet = false
      }
    }
  }
}

function decodeGre(info: PacketInfo, anomalies: AnomalyCounters): number {
  const buf = info.buf
  const off = info.l4Off
  const cap = info.l4CapLen
  if (cap < 4) { anomalies.inc('truncated_GRE'); return L4_DROP }
  const flags = u16(buf, off)
  const version = flags & 0x7
  const proto = u16(buf, off + 2)
  let hdr = 4
  if (version === 0) {
    if (flags & 0x8000) hdr += 4 // checksum + reserved
    if (flags & 0x2000) hdr += 4 // key
    if (flags & 0x1000) hdr += 4 // sequence
  } else if (version === 1) {
    hdr = 8 // enhanced GRE (PPTP): key field always present
    if (flags & 0x1000) hdr += 4
    if (flags & 0x0080) hdr += 4 // acknowledgment
  } else {
    anomalies.inc('unknown_gre_version')
    return L4_DROP
  }
  if (hdr > cap) { anomalies.inc('truncated_GRE'); return L4_DROP }
  let inner = off + hdr
  let isEth = false
  if (proto === 0x0800 || proto === 0x86dd) {
    isEth = false
  } else if (proto === 0x6558) {
    isEth = true
  } else if (proto === 0x880b) { // PPP: optional address/control 0xff03, then a protocol field
    if (inner + 2 <= off + cap && buf[inner] === 0xff && buf[inner + 1] === 0x03) inner += 2
    if (inner + 2 > off + cap) { anomalies.inc('truncated_GRE'); return L4_DROP }
    const pp = buf[inner]! === 0x21 ? 0x21 : u16(buf, inner)
    inner += pp === 0x21 && buf[inner] === 0x21 ? 1 : 2
    if (pp !== 0x21 && pp !== 0x0021 && pp !== 0x0057) { anomalies.inc('unknown_gre_protocol'); return L4_TUNNEL_ONLY_NONE }
  } else {
    anomalies.inc('unknown_gre_protocol')
    return L4_TUNNEL_ONLY_NONE
  }
  info.tunnelType = TUNNEL_GRE
  info.innerOff = inner
  info.innerIsEthernet = isEth
  return L4_TUNNEL_ONLY
}

/** GRE we cannot look into: Zeek neither makes a connection for it nor decodes further. */
export const L4_TUNNEL_ONLY_NONE = 5
