/**
 * Community ID v1 flow hashing (corelight/community-id-spec).
 *
 * Hash input, all big-endian: seed (2 bytes) . saddr (4|16) . daddr (4|16) . proto (1) . 0 (1)
 * [. sport (2) . dport (2) for port-bearing protocols], SHA1, base64, prefixed with "1:".
 * The endpoints are ordered so that the numerically smaller (address, port) comes first,
 * except for one-way ICMP messages, which keep their direction.
 *
 * ICMP / ICMPv6: type and code are mapped to "ports" as Zeek does (ICMP4_counterpart /
 * ICMP6_counterpart, mirrored by the reference implementation pycommunityid): a message
 * that has a request/reply counterpart becomes (type, counterpart type) and is two-way;
 * any other message becomes (type, code) and is one-way.
 */
type NodeCrypto = typeof import('node:crypto')
type OneShot = (alg: string, data: Uint8Array, enc: 'base64') => string

/**
 * node:crypto is taken on the first Community ID, not at import: loading it is ~20 ms of
 * start-up, and most replays compute none. One-shot crypto.hash (Node ≥ 20.12) is several
 * times cheaper than createHash for small inputs.
 */
let sha1Base64: ((data: Uint8Array) => string) | undefined

function sha1(data: Uint8Array): string {
  if (sha1Base64 === undefined) {
    const c = process.getBuiltinModule('node:crypto') as NodeCrypto
    const oneShot = (c as unknown as { hash?: OneShot }).hash
    sha1Base64 = oneShot !== undefined ? (d) => oneShot('sha1', d, 'base64') : (d) => c.createHash('sha1').update(d).digest('base64')
  }
  return sha1Base64(data)
}

const PROTO_ICMP = 1
const PROTO_TCP = 6
const PROTO_UDP = 17
const PROTO_ICMP6 = 58
const PROTO_SCTP = 132

/** ICMPv4 type → counterpart type (echo, timestamp, info, router solicit/advert, mask). */
export const ICMP4_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [8, 0], [0, 8],
  [13, 14], [14, 13],
  [15, 16], [16, 15],
  [10, 9], [9, 10],
  [17, 18], [18, 17],
])

/** ICMPv6 type → counterpart type (echo, MLD, RS/RA, NS/NA, WRU, HAAD). */
export const ICMP6_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [128, 129], [129, 128],
  [130, 131], [131, 130],
  [133, 134], [134, 133],
  [135, 136], [136, 135],
  [139, 140], [140, 139],
  [144, 145], [145, 144],
])

/** Protocols whose hash input carries the two port fields. */
function hasPorts(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP || proto === PROTO_ICMP || proto === PROTO_ICMP6
}

/** Lexicographic byte compare of two equal-length addresses: <0, 0, >0. */
function compareAddr(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

/**
 * srcIp/dstIp: 4 or 16 raw address bytes (views OK). For ICMP/ICMPv6 pass type as sport and
 * code as dport; the function applies the spec's ICMP port mapping and one-way handling.
 * proto = IP protocol number. seed: 0..65535 (default 0).
 */
export function communityIdV1(proto: number, srcIp: Uint8Array, dstIp: Uint8Array, sport: number, dport: number, seed = 0): string {
  let sp = sport & 0xffff
  let dp = dport & 0xffff
  let oneWay = false
  if (proto === PROTO_ICMP || proto === PROTO_ICMP6) {
    const table = proto === PROTO_ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART
    const counterpart = table.get(sp)
    if (counterpart === undefined) oneWay = true
    else dp = counterpart
  }
  const ports = hasPorts(proto)

  let a = srcIp
  let b = dstIp
  if (!oneWay) {
    const c = compareAddr(srcIp, dstIp)
    const ordered = c < 0 || (c === 0 && ports && sp < dp)
    if (!ordered) {
      a = dstIp
      b = srcIp
      const t = sp
      sp = dp
      dp = t
    }
  }

  const len = 2 + a.length + b.length + 2 + (ports ? 4 : 0)
  // At most 40 bytes: a reused scratch buffer (hashed before the next call) instead of one per flow.
  const buf = (msgViews[len] ??= msgScratch.subarray(0, len))
  let o = buf.writeUInt16BE(seed & 0xffff, 0)
  buf.set(a, o)
  o += a.length
  buf.set(b, o)
  o += b.length
  o = buf.writeUInt8(proto & 0xff, o)
  o = buf.writeUInt8(0, o)
  if (ports) {
    o = buf.writeUInt16BE(sp, o)
    buf.writeUInt16BE(dp, o)
  }
  return '1:' + sha1(buf)
}

const msgScratch = Buffer.alloc(2 + 16 + 16 + 2 + 4)
/** One view of msgScratch per input length, made once. */
const msgViews: Buffer[] = []
