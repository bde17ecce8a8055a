import { i32 } from '../decode/bytes.js'
import type { PacketInfo } from '../decode/packet-info.js'
import { ICMP4_COUNTERPART, ICMP6_COUNTERPART } from './community-id.js'

/**
 * Canonical, direction-independent flow key read straight from packet bytes: the IP
 * protocol, then the lower (address, port) endpoint ("a"), then the higher one ("b").
 * Nothing is allocated per packet: the key lives in this reused scratch object as 32-bit
 * words plus a 30-bit hash; a connection copies the words once, when it is created
 * (see Conn.setKey / Conn.keyEquals).
 *
 * Like Zeek's default connection key, VLAN ids and tunnels are not part of the key.
 */
export class FlowKey {
  proto = 0
  v6 = false
  a0 = 0; a1 = 0; a2 = 0; a3 = 0
  b0 = 0; b1 = 0; b2 = 0; b3 = 0
  pa = 0
  pb = 0
  hash = 0
  /** True when the packet's source is the "a" endpoint. */
  srcIsA = true
  sport = 0
  dport = 0
}

/** Zeek's ICMP "ports": type, and the counterpart type (request/reply pairs) or the code. */
export function icmpPorts(ipProto: number, type: number, code: number, out: FlowKey): void {
  const map = ipProto === 1 ? ICMP4_COUNTERPART : ICMP6_COUNTERPART
  out.sport = type
  const cp = map.get(type)
  out.dport = cp ?? code
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1)
  return (h << 13) | (h >>> 19)
}

export function buildFlowKey(info: PacketInfo, sport: number, dport: number, out: FlowKey): void {
  const b = info.buf
  const s = info.srcAddrOff
  const d = info.dstAddrOff
  out.sport = sport
  out.dport = dport
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
  out.proto = info.ipProto
  out.pa = srcIsA ? sport : dport
  out.pb = srcIsA ? dport : sport
  let h = mix(0x1234567 ^ out.proto, (out.pa << 16) | out.pb)
  if (n === 4) {
    out.v6 = false
    out.a0 = i32(b, ao)
    out.b0 = i32(b, bo)
    out.a1 = out.a2 = out.a3 = out.b1 = out.b2 = out.b3 = 0
    h = mix(mix(h, out.a0), out.b0)
  } else {
    out.v6 = true
    out.a0 = i32(b, ao); out.a1 = i32(b, ao + 4); out.a2 = i32(b, ao + 8); out.a3 = i32(b, ao + 12)
    out.b0 = i32(b, bo); out.b1 = i32(b, bo + 4); out.b2 = i32(b, bo + 8); out.b3 = i32(b, bo + 12)
    h = mix(mix(mix(mix(h, out.a0), out.a1), out.a2), out.a3)
    h = mix(mix(mix(mix(h, out.b0), out.b1), out.b2), out.b3)
  }
  h ^= h >>> 16
  out.hash = h & 0x3fffffff
}
