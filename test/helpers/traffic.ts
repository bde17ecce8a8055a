/**
 * Conversation generators for realistic fixtures: TCP sessions with correct sequence/ack
 * numbers, UDP request/response exchanges and ICMP echo, over Ethernet (optional 802.1Q tag)
 * and IPv4 or IPv6, with increasing timestamps as seen from a tap next to the client.
 *
 * Built for volume (the benchmark uses it for millions of packets): per conversation the
 * Ethernet/IP/L4 header is built once per direction; per packet we allocate exactly one
 * Buffer, copy the template, patch the varying fields and derive checksums arithmetically
 * (payload sums come from a prefix-sum table over one shared payload pattern).
 */
import { foldChecksum, parseIp, parseMac, pseudoHeaderSum, sum16 } from './inet-checksum.js'
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN } from './packet-builder-l2.js'
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './packet-builder-ip.js'
import { tcpFlags } from './packet-builder-l4.js'
import type { CaptureFrame } from './pcap-writer.js'

export interface Endpoint {
  ip: string
  port: number
  mac?: string
}

export type Direction = 'orig' | 'resp'

export interface Exchange {
  from: Direction
  bytes: number
  /** Real payload (application bytes); when set, `bytes` must equal data.length. */
  data?: Buffer
}

/** Shared payload pattern (printable ASCII) and the prefix sums of its 16-bit words. */
const PAYLOAD_MAX = 65536
const PAYLOAD = Buffer.alloc(PAYLOAD_MAX)
for (let i = 0; i < PAYLOAD_MAX; i++) PAYLOAD[i] = 0x41 + (i % 26)
const PREFIX_SUM = new Float64Array(PAYLOAD_MAX / 2 + 1)
for (let i = 0; i < PAYLOAD_MAX / 2; i++) PREFIX_SUM[i + 1] = PREFIX_SUM[i]! + ((PAYLOAD[2 * i]! << 8) | PAYLOAD[2 * i + 1]!)

/** Unfolded one's-complement sum of PAYLOAD[0, len). */
function payloadSum(len: number): number {
  const words = len >> 1
  let s = PREFIX_SUM[words]!
  if (len & 1) s += PAYLOAD[len - 1]! << 8
  return s
}

/** Timeline in integer nanoseconds relative to t0 (exact for ~104 days). */
class Clock {
  private readonly baseSec: number
  private readonly baseNsec: number
  offsetNs = 0
  constructor(t0: number) {
    this.baseSec = Math.floor(t0)
    this.baseNsec = Math.round((t0 - this.baseSec) * 1e6) * 1000
  }
  stamp(data: Buffer, origLen?: number): CaptureFrame {
    const total = this.baseNsec + this.offsetNs
    const s = Math.floor(total / 1e9)
    const f: CaptureFrame = { tsSec: this.baseSec + s, tsNsec: total - s * 1e9, data }
    if (origLen !== undefined) f.origLen = origLen
    return f
  }
}

interface FlowOptions {
  client: Endpoint
  server: Endpoint
  ipv6?: boolean
  vlan?: number
}

/** Prebuilt headers for one 5-tuple; `packet()` makes a frame with patched fields. */
class PacketFactory {
  private readonly l3Off: number
  private readonly l4Off: number
  private readonly v6: boolean
  private readonly proto: number
  private readonly tmpl: [Buffer, Buffer]
  /** Unfolded pseudo-header sums (without the L4 length) per direction. */
  private readonly pseudo: [number, number]
  private ipId = [0x1000, 0x2000]

  constructor(o: FlowOptions, proto: number, private readonly l4HdrLen: number) {
    this.v6 = o.ipv6 === true
    this.proto = proto
    const vlanLen = o.vlan !== undefined ? 4 : 0
    this.l3Off = 14 + vlanLen
    this.l4Off = this.l3Off + (this.v6 ? 40 : 20)
    const cIp = parseIp(o.client.ip)
    const sIp = parseIp(o.server.ip)
    if ((cIp.length === 16) !== this.v6 || (sIp.length === 16) !== this.v6) {
      throw new Error(`address family of ${o.client.ip}/${o.server.ip} does not match ipv6=${this.v6}`)
    }
    const cMac = parseMac(o.client.mac ?? '02:00:00:00:00:01')
    const sMac = parseMac(o.server.mac ?? '02:00:00:00:00:02')
    const mk = (srcMac: Buffer, dstMac: Buffer, srcIp: Buffer, dstIp: Buffer, sport: number, dport: number): Buffer => {
      const b = Buffer.alloc(this.l4Off + l4HdrLen)
      dstMac.copy(b, 0)
      srcMac.copy(b, 6)
      let off = 12
      if (o.vlan !== undefined) { b.writeUInt16BE(ETHERTYPE_VLAN, 12); b.writeUInt16BE(o.vlan & 0xfff, 14); off = 16 }
      b.writeUInt16BE(this.v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, off)
      const ip = this.l3Off
      if (this.v6) {
        b.writeUInt32BE(0x60000000, ip)
        b[ip + 6] = proto
        b[ip + 7] = 64
        srcIp.copy(b, ip + 8)
        dstIp.copy(b, ip + 24)
      } else {
        b[ip] = 0x45
        b.writeUInt16BE(0x4000, ip + 6) // DF
        b[ip + 8] = 64
        b[ip + 9] = proto
        srcIp.copy(b, ip + 12)
        dstIp.copy(b, ip + 16)
      }
      if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
        b.writeUInt16BE(sport, this.l4Off)
        b.writeUInt16BE(dport, this.l4Off + 2)
      }
      return b
    }
    this.tmpl = [
      mk(cMac, sMac, cIp, sIp, o.client.port, o.server.port),
      mk(sMac, cMac, sIp, cIp, o.server.port, o.client.port),
    ]
    const withPseudo = proto !== IPPROTO_ICMP
    this.pseudo = withPseudo
      ? [pseudoHeaderSum(cIp, sIp, proto, 0), pseudoHeaderSum(sIp, cIp, proto, 0)]
      : [0, 0]
  }

  /**
   * One frame: template + `payloadLen` bytes of the shared pattern. `fill` writes the
   * L4 header fields (except the checksum) into the new buffer at l4Off.
   */
  packet(dir: 0 | 1, payloadLen: number, fill: (b: Buffer, l4: number) => void, csOff: number, data?: Buffer): Buffer {
    const t = this.tmpl[dir]
    const len = t.length + payloadLen
    const b = Buffer.allocUnsafe(len)
    t.copy(b, 0)
    if (data) data.copy(b, t.length, 0, payloadLen)
    else PAYLOAD.copy(b, t.length, 0, payloadLen)
    const ip = this.l3Off
    const l4Len = this.l4HdrLen + payloadLen
    if (this.v6) {
      b.writeUInt16BE(l4Len, ip + 4)
    } else {
      b.writeUInt16BE(20 + l4Len, ip + 2)
      const id = this.ipId[dir]!
      this.ipId[dir] = (id + 1) & 0xffff
      b.writeUInt16BE(id, ip + 4)
      b.writeUInt16BE(0, ip + 10)
      b.writeUInt16BE(foldChecksum(sum16(b, ip, ip + 20)), ip + 10)
    }
    const l4 = this.l4Off
    fill(b, l4)
    b.writeUInt16BE(0, l4 + csOff)
    const pseudoLen = this.proto === IPPROTO_ICMP ? 0 : this.pseudo[dir] + l4Len
    const payload = data ? sum16(b, l4 + this.l4HdrLen, l4 + this.l4HdrLen + payloadLen) : payloadSum(payloadLen)
    let cs = foldChecksum(sum16(b, l4, l4 + this.l4HdrLen, pseudoLen) + payload)
    if (cs === 0 && this.proto === IPPROTO_UDP) cs = 0xffff
    b.writeUInt16BE(cs, l4 + csOff)
    return b
  }
}

function dirIndex(d: Direction): 0 | 1 {
  return d === 'orig' ? 0 : 1
}

export interface TcpConversationOptions extends FlowOptions {
  /** Start time in seconds since the epoch (fractional part kept to the microsecond). */
  t0: number
  /** Round-trip time between the tap (near the client) and the server. Default 1000 µs. */
  rttUs?: number
  /** Spacing of back-to-back packets from one side. Default 20 µs. */
  gapUs?: number
  exchanges?: Exchange[]
  open?: 'handshake' | 'none' | 'syn-only' | 'rejected'
  close?: 'fin' | 'rst-orig' | 'rst-resp' | 'none'
  mss?: number
  isnOrig?: number
  isnResp?: number
  window?: number
}

/**
 * A TCP session: handshake, each exchange as MSS-sized segments (PSH on the last) answered
 * by one pure ACK, then the chosen close. Packets toward the server are spaced by gapUs;
 * the first packet from the server after the client spoke comes rttUs later.
 */
export function tcpConversation(o: TcpConversationOptions): CaptureFrame[] {
  const f = new PacketFactory(o, IPPROTO_TCP, 20)
  const clock = new Clock(o.t0)
  const rttNs = (o.rttUs ?? 1000) * 1000
  const gapNs = (o.gapUs ?? 20) * 1000
  const mss = o.mss ?? 1460
  const window = o.window ?? 64240
  const out: CaptureFrame[] = []
  const seq: [number, number] = [(o.isnOrig ?? 0x1000_0000) >>> 0, (o.isnResp ?? 0x2000_0000) >>> 0]
  let last: 0 | 1 | -1 = -1
  let pSeq = 0; let pAck = 0; let pFlags = 0

  const fill = (b: Buffer, l4: number): void => {
    b.writeUInt32BE(pSeq, l4 + 4)
    b.writeUInt32BE(pAck, l4 + 8)
    b.writeUInt16BE(0x5000 | pFlags, l4 + 12)
    b.writeUInt16BE(window, l4 + 14)
    b.writeUInt16BE(0, l4 + 18)
  }
  const send = (dir: 0 | 1, flags: number, s: number, a: number, len: number, data?: Buffer): void => {
    if (last !== -1) clock.offsetNs += dir === 1 && last === 0 ? rttNs : gapNs
    last = dir
    pSeq = s >>> 0; pAck = a >>> 0; pFlags = flags
    out.push(clock.stamp(f.packet(dir, len, fill, 16, data)))
  }
  const S = tcpFlags('S'); const SA = tcpFlags('SA'); const A = tcpFlags('A'); const PA = tcpFlags('PA')
  const FA = tcpFlags('FA'); const R = tcpFlags('R'); const RA = tcpFlags('RA')

  const open = o.open ?? 'handshake'
  if (open === 'none') {
    seq[0] = (seq[0] + 1) >>> 0; seq[1] = (seq[1] + 1) >>> 0
  } else {
    send(0, S, seq[0], 0, 0)
    seq[0] = (seq[0] + 1) >>> 0
    if (open === 'syn-only') return out
    if (open === 'rejected') { send(1, RA, 0, seq[0], 0); return out }
    send(1, SA, seq[1], seq[0], 0)
    seq[1] = (seq[1] + 1) >>> 0
    send(0, A, seq[0], seq[1], 0)
  }
  for (const ex of o.exchanges ?? []) {
    const d = dirIndex(ex.from)
    const p = (1 - d) as 0 | 1
    let left = ex.data ? ex.data.length : ex.bytes
    let at = 0
    while (left > 0) {
      const n = Math.min(mss, left, PAYLOAD_MAX)
      left -= n
      send(d, left === 0 ? PA : A, seq[d], seq[p], n, ex.data?.subarray(at, at + n))
      at += n
      seq[d] = (seq[d] + n) >>> 0
    }
    if (ex.bytes > 0) send(p, A, seq[p], seq[d], 0)
  }
  switch (o.close ?? 'fin') {
    case 'fin':
      send(0, FA, seq[0], seq[1], 0); seq[0] = (seq[0] + 1) >>> 0
      send(1, FA, seq[1], seq[0], 0); seq[1] = (seq[1] + 1) >>> 0
      send(0, A, seq[0], seq[1], 0)
      break
    case 'rst-orig': send(0, R, seq[0], 0, 0); break
    case 'rst-resp': send(1, R, seq[1], 0, 0); break
    case 'none': break
  }
  return out
}

export interface UdpExchangeOptions extends FlowOptions {
  t0: number
  rttUs?: number
  gapUs?: number
  /** One datagram per exchange carrying `bytes` of payload (at most 65507). */
  exchanges: Exchange[]
}

export function udpExchange(o: UdpExchangeOptions): CaptureFrame[] {
  const f = new PacketFactory(o, IPPROTO_UDP, 8)
  const clock = new Clock(o.t0)
  const rttNs = (o.rttUs ?? 1000) * 1000
  const gapNs = (o.gapUs ?? 20) * 1000
  const out: CaptureFrame[] = []
  let last = -1
  let len = 0
  const fill = (b: Buffer, l4: number): void => { b.writeUInt16BE(8 + len, l4 + 4) }
  for (const ex of o.exchanges) {
    const d = dirIndex(ex.from)
    if (last !== -1) clock.offsetNs += d === 1 && last === 0 ? rttNs : gapNs
    last = d
    len = Math.min(ex.data ? ex.data.length : ex.bytes, 65507)
    out.push(clock.stamp(f.packet(d, len, fill, 6, ex.data)))
  }
  return out
}

export interface IcmpEchoOptions {
  client: { ip: string, mac?: string }
  server: { ip: string, mac?: string }
  t0: number
  rttUs?: number
  /** Requests sent, one per interval. Default 1. */
  count?: number
  intervalUs?: number
  id?: number
  payloadBytes?: number
  /** Whether the server answers. Default true. */
  reply?: boolean
  ipv6?: boolean
  vlan?: number
}

export function icmpEcho(o: IcmpEchoOptions): CaptureFrame[] {
  const v6 = o.ipv6 === true
  const proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP
  const flow: FlowOptions = {
    client: { ip: o.client.ip, port: 0, ...(o.client.mac !== undefined ? { mac: o.client.mac } : {}) },
    server: { ip: o.server.ip, port: 0, ...(o.server.mac !== undefined ? { mac: o.server.mac } : {}) },
    ipv6: v6,
    ...(o.vlan !== undefined ? { vlan: o.vlan } : {}),
  }
  const f = new PacketFactory(flow, proto, 8)
  const clock = new Clock(o.t0)
  const rttNs = (o.rttUs ?? 1000) * 1000
  const intervalNs = (o.intervalUs ?? 1_000_000) * 1000
  const id = o.id ?? 0x1234
  const n = o.payloadBytes ?? 56
  let type = 0; let seq = 0
  const fill = (b: Buffer, l4: number): void => {
    b[l4] = type; b[l4 + 1] = 0
    b.writeUInt16BE(id, l4 + 4); b.writeUInt16BE(seq, l4 + 6)
  }
  const out: CaptureFrame[] = []
  for (let i = 0; i < (o.count ?? 1); i++) {
    clock.offsetNs = i * intervalNs
    seq = (i + 1) & 0xffff
    type = v6 ? 128 : 8
    out.push(clock.stamp(f.packet(0, n, fill, 2)))
    if (o.reply !== false) {
      clock.offsetNs += rttNs
      type = v6 ? 129 : 0
      out.push(clock.stamp(f.packet(1, n, fill, 2)))
    }
  }
  return out
}

/** Merges frame lists into one list ordered by timestamp (stable). */
export function mergeByTime(...lists: CaptureFrame[][]): CaptureFrame[] {
  return lists.flat().sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec)
}
