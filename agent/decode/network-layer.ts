import { u16, u32 } from './bytes.js'
import type { AnomalyCounters } from './anomalies.js'
import { ipv4HeaderChecksumOk } from './checksum.js'
import type { PacketInfo } from './packet-info.js'

export interface NetworkOptions {
  /** Skip IPv4 header / TCP / UDP / ICMP checksum verification (Zeek's -C). */
  ignoreChecksums: boolean
}

/**
 * IPv4 header at `off`. `avail` = bytes captured from `off`; `snapCut` = the capture was cut by
 * snaplen (then a short packet is expected, not an anomaly). Fills network fields of `info`
 * and leaves the transport offset in info.l4Off. Returns false on a counted anomaly.
 */
export function decodeIpv4(buf: Buffer, off: number, avail: number, snapCut: boolean, info: PacketInfo,
  anomalies: AnomalyCounters, opts: NetworkOptions): boolean {
  if (avail < 20) { anomalies.inc('truncated_IP'); return false }
  const b0 = buf[off]!
  if (b0 >> 4 !== 4) { anomalies.inc('bad_IP_version'); return false }
  const ihl = (b0 & 0x0f) * 4
  if (ihl < 20) { anomalies.inc('bad_IP_header_len'); return false }
  if (ihl > avail) { anomalies.inc('truncated_IP'); return false }
  let total = u16(buf, off + 2)
  if (total === 0) total = avail // TSO: length 0 on captures taken before segmentation
  if (total < ihl) { anomalies.inc('bad_IP_header_len'); return false }
  if (total > avail && !snapCut) { anomalies.inc('truncated_IP'); return false }
  if (!opts.ignoreChecksums && !ipv4HeaderChecksumOk(buf, off, ihl)) {
    anomalies.inc('bad_IP_checksum')
    return false
  }
  info.buf = buf
  info.ipVersion = 4
  info.ipOff = off
  info.ipHdrLen = ihl
  info.ipTotalLen = total
  info.srcAddrOff = off + 12
  info.dstAddrOff = off + 16
  info.addrLen = 4
  info.ttl = buf[off + 8]!
  info.ipProto = buf[off + 9]!
  const fragField = u16(buf, off + 6)
  const mf = (fragField & 0x2000) !== 0
  const fragOff = (fragField & 0x1fff) * 8
  if (mf || fragOff !== 0) {
    info.isFragment = true
    info.fragMore = mf
    info.fragOffset = fragOff
    info.fragId = u16(buf, off + 4)
    info.fragPayloadOff = off + ihl
  }
  info.l4Off = off + ihl
  info.l4Len = total - ihl
  info.l4CapLen = Math.min(total, avail) - ihl
  return true
}

const IPV6_MAX_EXT_HEADERS = 16

/** IPv6 header and its extension-header chain up to the transport protocol. */
export function decodeIpv6(buf: Buffer, off: number, avail: number, snapCut: boolean, info: PacketInfo,
  anomalies: AnomalyCounters): boolean {
  if (avail < 40) { anomalies.inc('truncated_IPv6'); return false }
  if (buf[off]! >> 4 !== 6) { anomalies.inc('bad_IP_version'); return false }
  let payloadLen = u16(buf, off + 4)
  if (payloadLen === 0) payloadLen = avail - 40 // jumbogram or TSO; take what was captured
  const total = payloadLen + 40
  if (total > avail && !snapCut) { anomalies.inc('truncated_IPv6'); return false }
  info.buf = buf
  info.ipVersion = 6
  info.ipOff = off
  info.ipTotalLen = total
  info.srcAddrOff = off + 8
  info.dstAddrOff = off + 24
  info.addrLen = 16
  info.ttl = buf[off + 7]!
  const end = off + Math.min(total, avail)
  let next = buf[off + 6]!
  let p = off + 40
  for (let n = 0; ; n++) {
    if (n > IPV6_MAX_EXT_HEADERS) { anomalies.inc('excessive_ipv6_ext_headers'); return false }
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (p + 8 > end) { anomalies.inc('truncated_ipv6_ext_header'); return false }
      const hlen = (buf[p + 1]! + 1) * 8
      if (p + hlen > end) { anomalies.inc('truncated_ipv6_ext_header'); return false }
      next = buf[p]!
      p += hlen
      continue
    }
    if (next === 51) { // AH: length in 4-octet units minus 2
      if (p + 8 > end) { anomalies.inc('truncated_ipv6_ext_header'); return false }
      const hlen = (buf[p + 1]! + 2) * 4
      if (p + hlen > end) { anomalies.inc('truncated_ipv6_ext_header'); return false }
      next = buf[p]!
      p += hlen
      continue
    }
    if (next === 44) { // fragment header
      if (p + 8 > end) { anomalies.inc('truncated_ipv6_ext_header'); return false }
      const offField = u16(buf, p + 2)
      const fragOff = offField & 0xfff8
      const mf = (offField & 1) !== 0
      const nh = buf[p]!
      p += 8
      next = nh
      if (fragOff !== 0 || mf) {
        info.isFragment = true
        info.fragMore = mf
        info.fragOffset = fragOff
        info.fragId = u32(buf, p - 4)
        info.fragPayloadOff = p
        info.ipProto = next
        info.ipHdrLen = p - off
        info.l4Off = p
        info.l4Len = total - (p - off)
        info.l4CapLen = end - p
        return true
      }
      continue // atomic fragment: carry on with the next header
    }
    break
  }
  info.ipProto = next
  info.ipHdrLen = p - off
  info.l4Off = p
  info.l4Len = total - (p - off)
  info.l4CapLen = end - p
  if (info.l4Len < 0) { anomalies.inc('truncated_IPv6'); return false }
  return true
}
