/**
 * Community ID v1 (corelight/community-id-spec) computed from a Flow's own fields, so a
 * Flow can leave the 20-byte digest off the wire when it is the one anyone would compute
 * (seed 0) — the reader recomputes it. Pure; imports nothing of ours.
 *
 * Hash input, big-endian: seed (2) . saddr (4|16) . daddr (4|16) . proto (1) . 0 (1)
 * [. sport (2) . dport (2)]. Endpoints ordered smaller (address, port) first, except one-way
 * ICMP messages. ICMP type/code map to ports as Zeek and pycommunityid do. The agent's flow
 * table has its own copy on the hot path (agent/flow/community-id.ts); a test checks that
 * both agree.
 */
import { hash } from 'node:crypto'

const ICMP4_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [9, 10], [17, 18], [18, 17],
])
const ICMP6_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [128, 129], [129, 128], [130, 131], [131, 130], [133, 134], [134, 133], [135, 136], [136, 135],
  [139, 140], [140, 139], [144, 145], [145, 144],
])

/**
 * Writes the hash input (seed, ordered endpoints, proto, ports) into `out` (≥ 40 bytes) and
 * returns its length; 0 when the addresses are not both 4 or both 16 bytes. Two flows have
 * the same Community ID exactly when their inputs are equal (up to SHA-1 collisions), so the
 * input serves as a key without hashing it.
 */
export function communityIdV1Input(ipProto: number, src: Uint8Array, dst: Uint8Array, sport: number, dport: number, seed: number, out: Buffer): number {
  if (src.length !== dst.length || (src.length !== 4 && src.length !== 16)) return 0
  let sp = sport & 0xffff
  let dp = dport & 0xffff
  let oneWay = false
  if (ipProto === 1 || ipProto === 58) {
    const counterpart = (ipProto === 1 ? ICMP4_COUNTERPART : ICMP6_COUNTERPART).get(sp)
    if (counterpart === undefined) oneWay = true
    else dp = counterpart
  }
  const ports = ipProto === 6 || ipProto === 17 || ipProto === 132 || ipProto === 1 || ipProto === 58
  let a = src
  let b = dst
  if (!oneWay) {
    let c = 0
    for (let i = 0; i < a.length && c === 0; i++) c = a[i]! - b[i]!
    if (!(c < 0 || (c === 0 && ports && sp < dp))) {
      a = dst; b = src
      const t = sp; sp = dp; dp = t
    }
  }
  let o = out.writeUInt16BE(seed & 0xffff, 0)
  out.set(a, o); o += a.length
  out.set(b, o); o += b.length
  o = out.writeUInt8(ipProto & 0xff, o)
  o = out.writeUInt8(0, o)
  if (ports) { o = out.writeUInt16BE(sp, o); o = out.writeUInt16BE(dp, o) }
  return o
}

/** The 20-byte SHA-1 digest; undefined when the addresses are not both 4 or both 16 bytes. */
export function communityIdV1Digest(ipProto: number, src: Uint8Array, dst: Uint8Array, sport: number, dport: number, seed = 0): Buffer | undefined {
  const buf = Buffer.allocUnsafe(40)
  const n = communityIdV1Input(ipProto, src, dst, sport, dport, seed, buf)
  return n === 0 ? undefined : hash('sha1', buf.subarray(0, n), 'buffer')
}

/** "1:" + base64 of the digest, as Zeek and Suricata write it. */
export function communityIdV1(ipProto: number, src: Uint8Array, dst: Uint8Array, sport: number, dport: number, seed = 0): string | undefined {
  const d = communityIdV1Digest(ipProto, src, dst, sport, dport, seed)
  return d === undefined ? undefined : `1:${d.toString('base64')}`
}
