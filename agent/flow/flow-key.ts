import type { PacketInfo } from '../decode/packet-info.js'
import { ICMP4_COUNTERPART, ICMP6_COUNTERPART } from './community-id.js'

/**
 * Canonical, direction-independent flow key built straight from packet bytes: the IP protocol,
 * then the lower (address, port) endpoint, then the higher one, as 16-bit char codes.
 * Keys are short strings (7 chars for IPv4, 19 for IPv6): building one is a single
 * String.fromCharCode call; the Map lookup hashes it once.
 *
 * Like Zeek's default connection key, VLAN ids and tunnels are not part of the key.
 */
export interface KeyResult {
  key: string
  /** True when the packet's source is the lower ("a") endpoint of the key. */
  srcIsA: boolean
  sport: number
  dport: number
}

const v6 = new Array<number>(19)

/** Zeek's ICMP "ports": type, and the counterpart type (request/reply pairs) or the code. */
export function icmpPorts(ipProto: number, type: number, code: number, out: KeyResult): void {
  const map = ipProto === 1 ? ICMP4_COUNTERPART : ICMP6_COUNTERPART
  out.sport = type
  const cp = map.get(type)
  out.dport = cp ?? code
}

export function buildFlowKey(info: PacketInfo, sport: number, dport: number, out: KeyResult): void {
  const b = info.buf
  const s = info.srcAddrOff
  const d = info.dstAddrOff
  out.sport = sport
  out.dport = dport
  // Compare (src, sport) with (dst, dport).
  let cmp = 0
  const n = info.addrLen
  for (let i = 0; i < n; i++) {
    const x = b[s + i]! - b[d + i]!
    if (x !== 0) { cmp = x; break }
  }
  if (cmp === 0) cmp = sport - dport
  const srcIsA = cmp <= 0
  out.srcIsA = srcIsA
  const ao = srcIsA ? s : d
  const bo = srcIsA ? d : s
  const pa = srcIsA ? sport : dport
  const pb = srcIsA ? dport : sport
  if (n === 4) {
    out.key = String.fromCharCode(info.ipProto, (b[ao]! << 8) | b[ao + 1]!, (b[ao + 2]! << 8) | b[ao + 3]!,
      (b[bo]! << 8) | b[bo + 1]!, (b[bo + 2]! << 8) | b[bo + 3]!, pa, pb)
    return
  }
  v6[0] = info.ipProto | 0x100
  for (let i = 0; i < 8; i++) {
    v6[1 + i] = (b[ao + 2 * i]! << 8) | b[ao + 2 * i + 1]!
    v6[9 + i] = (b[bo + 2 * i]! << 8) | b[bo + 2 * i + 1]!
  }
  v6[17] = pa
  v6[18] = pb
  out.key = String.fromCharCode.apply(null, v6)
}
