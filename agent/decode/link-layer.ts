import { u16, u32 } from './bytes.js'
import {
  DLT_RAW_12, DLT_RAW_14, LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
} from '../capture/link-types.js'
import type { AnomalyCounters } from './anomalies.js'
import type { PacketInfo } from './packet-info.js'

/** What the link layer hands to the network layer. */
export const NET_NONE = 0
export const NET_IPV4 = 4
export const NET_IPV6 = 6
export const NET_ARP = 0x806
/** First nibble decides (raw links, MPLS payloads). */
export const NET_GUESS = 1

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_IPV6 = 0x86dd
export const ETHERTYPE_ARP = 0x0806
export const ETHERTYPE_VLAN = 0x8100
export const ETHERTYPE_QINQ = 0x88a8
export const ETHERTYPE_QINQ_OLD = 0x9100
export const ETHERTYPE_MPLS = 0x8847
export const ETHERTYPE_MPLS_MC = 0x8848
export const ETHERTYPE_PPPOE_SESSION = 0x8864

/** Where the network layer starts and what it is (NET_*); a reused scratch object. */
export interface LinkResult { kind: number; off: number }

/**
 * Decode the link layer of a captured frame into `out`. Returns false after counting an
 * anomaly when the frame cannot carry a network-layer packet we understand.
 */

export function decodeLink(
  linkType: number, buf: Buffer, len: number, info: PacketInfo, anomalies: AnomalyCounters, out: LinkResult,
): boolean {
  return decodeLinkAt(linkType, buf, 0, len, info, anomalies, out)
}

/**
 * decodeLink for a frame at buf[base, end) (a record inside a capture file's read buffer):
 * every offset set in `info` and `out` is absolute within `buf`.
 */
export function decodeLinkAt(
  linkType: number, buf: Buffer, base: number, end: number, info: PacketInfo, anomalies: AnomalyCounters, out: LinkResult,
): boolean {
  const len = end - base
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      if (len < 14) { anomalies.inc('truncated_link_header'); return false }
      info.dstMacOff = base
      info.srcMacOff = base + 6
      return decodeEthertype(buf, base + 12, base + 14, end, info, anomalies, out)
    case LINKTYPE_LINUX_SLL: {
      if (len < 16) { anomalies.inc('truncated_link_header'); return false }
      if (u16(buf, base + 4) === 6) info.srcMacOff = base + 6
      return decodeEthertype(buf, base + 14, base + 16, end, info, anomalies, out)
    }
    case LINKTYPE_LINUX_SLL2: {
      if (len < 20) { anomalies.inc('truncated_link_header'); return false }
      if (buf[base + 11] === 6) info.srcMacOff = base + 12
      return decodeEthertype(buf, base, base + 20, end, info, anomalies, out)
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (len < 4) { anomalies.inc('truncated_link_header'); return false }
      // NULL stores the address family in the capturing host's byte order; accept either.
      const le = buf.readUInt32LE(base)
      const af = linkType === LINKTYPE_LOOP ? u32(buf, base) : (le > 0xffff ? u32(buf, base) : le)
      out.off = base + 4
      if (af === 2) out.kind = NET_IPV4
      else if (af === 24 || af === 28 || af === 30 || af === 10) out.kind = NET_IPV6
      else { anomalies.inc('non_ip_packet'); return false }
      return true
    }
    case LINKTYPE_RAW:
    case DLT_RAW_12:
    case DLT_RAW_14:
      out.off = base
      out.kind = NET_GUESS
      return true
    case LINKTYPE_IPV4:
      out.off = base
      out.kind = NET_IPV4
      return true
    case LINKTYPE_IPV6:
      out.off = base
      out.kind = NET_IPV6
      return true
    default:
      anomalies.inc('unknown_link_type')
      return false
  }
}

/** Ethertype dispatch table walk: VLAN/QinQ, MPLS, PPPoE, then IP/ARP. */
export function decodeEthertype(
  buf: Buffer, typeOff: number, off: number, len: number, info: PacketInfo, anomalies: AnomalyCounters, out: LinkResult,
): boolean {
  let type = u16(buf, typeOff)
  for (let guard = 0; guard < 8; guard++) {
    switch (type) {
      case ETHERTYPE_IPV4: out.kind = NET_IPV4; out.off = off; return true
      case ETHERTYPE_IPV6: out.kind = NET_IPV6; out.off = off; return true
      case ETHERTYPE_ARP: out.kind = NET_ARP; out.off = off; return true
      case ETHERTYPE_VLAN:
      case ETHERTYPE_QINQ:
      case ETHERTYPE_QINQ_OLD: {
        if (off + 4 > len) { anomalies.inc('truncated_VLAN_header'); return false }
        const vid = u16(buf, off) & 0x0fff
        if (info.vlan < 0) info.vlan = vid
        else if (info.innerVlan < 0) info.innerVlan = vid
        type = u16(buf, off + 2)
        off += 4
        continue
      }
      case ETHERTYPE_MPLS:
      case ETHERTYPE_MPLS_MC: {
        // Label stack entries until the bottom-of-stack bit; the payload's version nibble decides.
        for (;;) {
          if (off + 4 > len) { anomalies.inc('truncated_MPLS_header'); return false }
          const bos = buf[off + 2]! & 0x01
          off += 4
          if (bos) break
        }
        out.kind = NET_GUESS
        out.off = off
        return true
      }
      case ETHERTYPE_PPPOE_SESSION: {
        if (off + 8 > len) { anomalies.inc('truncated_PPPoE_header'); return false }
        const pppProto = u16(buf, off + 6)
        off += 8
        if (pppProto === 0x0021) { out.kind = NET_IPV4; out.off = off; return true }
        if (pppProto === 0x0057) { out.kind = NET_IPV6; out.off = off; return true }
        anomalies.inc('non_ip_packet')
        return false
      }
      default:
        anomalies.inc('unknown_ethertype')
        return false
    }
  }
  anomalies.inc('truncated_VLAN_header')
  return false
}
