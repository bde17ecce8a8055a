/*
 * The decoded packet the flow table works on, and the fast decoder that fills it straight
 * from a capture record in linear memory. The fast decoder accepts only ordinary packets:
 * Ethernet with up to two VLAN tags, IPv4 without fragmentation or IPv6 without extension
 * headers, TCP / UDP / ICMP with good checksums (unless ignored), whole (not cut by snaplen),
 * no tunnel. Anything else — including every packet that would count an anomaly — is left
 * to the TypeScript decoder (agent/decode/), which then hands its result in through
 * setDecoded(): one decoder of record for the unusual, one fast path for the usual.
 */
import { ignoreChecksums } from './config'

export const L4_OK: i32 = 0
export const L4_BAD_CHECKSUM: i32 = 2
export const L4_OTHER: i32 = 4

export let pV6: bool = false
export let pSrc: usize = 0
export let pDst: usize = 0
export let pProto: i32 = 0
export let pL4: i32 = 0
export let pTotal: i32 = 0
export let pL4Len: i32 = 0
export let pL4Cap: i32 = 0
export let pSport: i32 = 0
export let pDport: i32 = 0
export let pFlags: i32 = 0
export let pSeq: u32 = 0
export let pAck: u32 = 0
export let pWin: i32 = 0
export let pThl: i32 = 0
export let pPlen: i32 = 0
export let pIcmpT: i32 = 0
export let pIcmpC: i32 = 0
export let pVlan: i32 = -1
export let pIVlan: i32 = -1
export let pSMac: f64 = -1
export let pDMac: f64 = -1
export let pIface: i32 = 0
export let pTParent: i32 = 0
export let pBroadcastDst: bool = false

/** Where the host writes a decoded packet's addresses (16 + 16 bytes) before setDecoded(). */
export const ADDR_SCRATCH: usize = memory.data(32)

/** A packet the TypeScript decoder decoded (fragments, tunnels, odd headers, bad checksums). */
export function setDecoded(v6: bool, proto: i32, l4: i32, total: i32, l4Len: i32, l4Cap: i32, sport: i32, dport: i32,
  flags: i32, seq: u32, ack: u32, win: i32, thl: i32, plen: i32, icmpT: i32, icmpC: i32, vlan: i32, ivlan: i32,
  smac: f64, dmac: f64, iface: i32, tparent: i32): void {
  pV6 = v6
  pSrc = ADDR_SCRATCH
  pDst = ADDR_SCRATCH + 16
  pProto = proto
  pL4 = l4
  pTotal = total
  pL4Len = l4Len
  pL4Cap = l4Cap
  pSport = sport
  pDport = dport
  pFlags = flags
  pSeq = seq
  pAck = ack
  pWin = win
  pThl = thl
  pPlen = plen
  pIcmpT = icmpT
  pIcmpC = icmpC
  pVlan = vlan
  pIVlan = ivlan
  pSMac = smac
  pDMac = dmac
  pIface = iface
  pTParent = tparent
  pBroadcastDst = !v6 && load<u32>(pDst) === 0xffffffff
}

// @ts-ignore: decorator
@inline function be16(p: usize): i32 {
  return <i32>bswap<u16>(load<u16>(p))
}

// @ts-ignore: decorator
@inline function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p))
}

function macNumber(p: usize): f64 {
  return <f64>load<u8>(p) * 1099511627776.0 + <f64>load<u8>(p + 1) * 4294967296.0 + <f64>be32(p + 2)
}

/**
 * One's-complement sum of [p, p+len) as little-endian 16-bit words, plus `initial`, folded
 * to 16 bits. A sum of byte-swapped words is the byte-swapped sum, and 0xffff — the only
 * value the checks compare with — is its own swap, so no swap is needed.
 */
function onesSumLE(p: usize, len: i32, initial: u64): u32 {
  let s: u64 = initial
  let i: i32 = 0
  // 16 bytes at a time: eight 16-bit words added pairwise into four 32-bit lanes. A lane gains
  // at most 2 × 65535 per step, so it cannot overflow below 2^15 steps (512 KiB; a packet is
  // at most 256 KiB).
  const end16 = len - 15
  if (end16 > 0) {
    let acc = i32x4.splat(0)
    for (; i < end16; i += 16) acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(v128.load(p + <usize>i)))
    s += <u64><u32>i32x4.extract_lane(acc, 0) + <u64><u32>i32x4.extract_lane(acc, 1) +
      <u64><u32>i32x4.extract_lane(acc, 2) + <u64><u32>i32x4.extract_lane(acc, 3)
  }
  for (; i + 1 < len; i += 2) s += <u64>load<u16>(p + <usize>i)
  if (i < len) s += <u64>load<u8>(p + <usize>i)
  while ((s >> 16) !== 0) s = (s & 0xffff) + (s >> 16)
  return <u32>s
}

function addrSumLE(p: usize, n: i32): u64 {
  let s: u64 = 0
  for (let i = 0; i < n; i += 4) s += <u64>load<u16>(p + <usize>i) + <u64>load<u16>(p + <usize>i + 2)
  return s
}

// @ts-ignore: decorator
@inline function swap16(v: i32): u64 {
  return <u64>(((v & 0xff) << 8) | ((v >> 8) & 0xff))
}

function transportChecksumOk(src: usize, dst: usize, alen: i32, proto: i32, l4: usize, len: i32): bool {
  const pseudo = addrSumLE(src, alen) + addrSumLE(dst, alen) + swap16(proto) + swap16(len & 0xffff) + swap16(len >>> 16)
  return onesSumLE(l4, len, pseudo) === 0xffff
}

/** Decode an Ethernet frame of `caplen` bytes at `p` (not cut by snaplen); false = leave it to the host. */
export function decodeEthernet(p: usize, caplen: i32): bool {
  if (caplen < 14) return false
  pDMac = macNumber(p)
  pSMac = macNumber(p + 6)
  let type = be16(p + 12)
  let off: i32 = 14
  pVlan = -1
  pIVlan = -1
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    if (off + 4 > caplen || pIVlan >= 0) return false
    const vid = be16(p + <usize>off) & 0x0fff
    if (pVlan < 0) pVlan = vid
    else pIVlan = vid
    type = be16(p + <usize>off + 2)
    off += 4
  }
  const ip = p + <usize>off
  const avail = caplen - off
  let l4: usize
  if (type === 0x0800) {
    if (avail < 20) return false
    const b0 = <i32>load<u8>(ip)
    if ((b0 >> 4) !== 4) return false
    const ihl = (b0 & 0x0f) * 4
    if (ihl < 20 || ihl > avail) return false
    const total = be16(ip + 2)
    if (total < ihl || total > avail) return false
    if ((be16(ip + 6) & 0x3fff) !== 0) return false // a fragment
    if (!ignoreChecksums && onesSumLE(ip, ihl, 0) !== 0xffff) return false
    pV6 = false
    pSrc = ip + 12
    pDst = ip + 16
    pProto = <i32>load<u8>(ip + 9)
    pTotal = total
    pL4Len = total - ihl
    l4 = ip + <usize>ihl
    if (pProto === 58) return false
  } else if (type === 0x86dd) {
    if (avail < 40) return false
    if ((<i32>load<u8>(ip) >> 4) !== 6) return false
    const plen = be16(ip + 4)
    if (plen === 0 || plen + 40 > avail) return false
    pV6 = true
    pSrc = ip + 8
    pDst = ip + 24
    pProto = <i32>load<u8>(ip + 6)
    pTotal = plen + 40
    pL4Len = plen
    l4 = ip + 40
    if (pProto === 1) return false
  } else {
    return false
  }
  pL4Cap = pL4Len
  const len = pL4Len
  const alen = pV6 ? 16 : 4
  pL4 = L4_OK
  pBroadcastDst = !pV6 && load<u32>(pDst) === 0xffffffff
  if (pProto === 6) {
    if (len < 20) return false
    const hdr = (<i32>load<u8>(l4 + 12) >> 4) * 4
    if (hdr < 20 || hdr > len) return false
    pSport = be16(l4)
    pDport = be16(l4 + 2)
    pSeq = be32(l4 + 4)
    pAck = be32(l4 + 8)
    pFlags = <i32>load<u8>(l4 + 13)
    pWin = be16(l4 + 14)
    pThl = hdr
    pPlen = len - hdr
    if (!ignoreChecksums && !transportChecksumOk(pSrc, pDst, alen, 6, l4, len)) return false
    return true
  }
  if (pProto === 17) {
    if (len < 8) return false
    pSport = be16(l4)
    pDport = be16(l4 + 2)
    const ulen = be16(l4 + 4)
    if (ulen !== len) return false
    if (pDport === 4789 || pSport === 3544 || pDport === 3544) return false // VXLAN / Teredo
    pPlen = ulen - 8
    if (!ignoreChecksums && (be16(l4 + 6) !== 0 || pV6) && !transportChecksumOk(pSrc, pDst, alen, 17, l4, len)) return false
    pFlags = 0
    return true
  }
  if (pProto === 1 || pProto === 58) {
    if (len < 8) return false
    pIcmpT = <i32>load<u8>(l4)
    pIcmpC = <i32>load<u8>(l4 + 1)
    pPlen = len - 8
    pSport = 0
    pDport = 0
    pFlags = 0
    if (!ignoreChecksums) {
      const ok = pProto === 1 ? onesSumLE(l4, len, 0) === 0xffff : transportChecksumOk(pSrc, pDst, 16, 58, l4, len)
      if (!ok) return false
    }
    return true
  }
  return false
}

export function setIfaceAndParent(iface: i32, tparent: i32): void {
  pIface = iface
  pTParent = tparent
}
