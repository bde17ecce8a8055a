/**
 * Property tests for the decoders and the whole packet pipeline: random frames and mutated
 * valid frames of every link type never throw or hang, and every rejected frame is counted
 * as a named anomaly.
 */
import t from 'tap'
import fc from 'fast-check'
import { newRawPacket } from '../agent/capture/raw-packet.js'
import {
  LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
} from '../agent/capture/link-types.js'
import { AnomalyCounters } from '../agent/decode/anomalies.js'
import { decodeFrame, DECODE_DROP } from '../agent/decode/decode-packet.js'
import { PacketInfo } from '../agent/decode/packet-info.js'
import { FlowPipeline } from '../agent/pipeline/flow-pipeline.js'
import {
  ethernet, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_PPPOE_SESSION, gre, icmp, ipv4, ipv4Fragments, ipv6,
  IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, linuxSll, mpls, pppoeSession, PPP_IPV4, tcp, teredoUdp, udp, vxlanUdp,
} from './helpers/packet-builder.js'

const LINK_TYPES = [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL, LINKTYPE_LOOP, LINKTYPE_IPV4, LINKTYPE_IPV6, 147]

function seedFrames(): Array<{ linkType: number; data: Buffer }> {
  const a = { src: '10.1.1.1', dst: '10.2.2.2' }
  const seg = tcp({ ...a, sport: 1234, dport: 80, seq: 1, ack: 2, flags: 'PA' }, Buffer.from('GET / HTTP/1.1\r\n\r\n'))
  const ip4 = ipv4({ ...a, protocol: IPPROTO_TCP }, seg)
  const v6 = { src: '2001:db8::1', dst: '2001:db8::2' }
  const ip6 = ipv6({ ...v6, nextHeader: IPPROTO_UDP }, udp({ ...v6, sport: 5353, dport: 5353 }, Buffer.alloc(20, 1)))
  const inner = ethernet({ etherType: ETHERTYPE_IPV4 }, ip4)
  const frames = [
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_IPV4, vlans: [10, 20] }, ip4) },
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_IPV6 }, ip6) },
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_MPLS }, mpls([100, 200], ip4)) },
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_PPPOE_SESSION }, pppoeSession({ pppProtocol: PPP_IPV4 }, ip4)) },
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_IPV4 }, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IPPROTO_GRE }, gre({ protocol: 0x0800 }, ip4))) },
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_IPV4 }, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IPPROTO_UDP }, vxlanUdp({ src: '1.1.1.1', dst: '2.2.2.2', vni: 7 }, inner))) },
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_IPV4 }, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IPPROTO_UDP }, teredoUdp({ src: '1.1.1.1', dst: '2.2.2.2' }, ip6))) },
    { linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_IPV4 }, ipv4({ ...a, protocol: IPPROTO_ICMP }, icmp({ type: 8, id: 1, seq: 1 }, Buffer.alloc(32)))) },
    ...ipv4Fragments({ ...a, protocol: IPPROTO_UDP, id: 77 }, udp({ ...a, sport: 53, dport: 5353 }, Buffer.alloc(3000, 7)), 1480)
      .map((f) => ({ linkType: LINKTYPE_ETHERNET, data: ethernet({ etherType: ETHERTYPE_IPV4 }, f) })),
    { linkType: LINKTYPE_LINUX_SLL, data: linuxSll({ protocol: ETHERTYPE_IPV4 }, ip4) },
    { linkType: LINKTYPE_RAW, data: ip6 },
  ]
  return frames
}

t.test('every seed frame decodes without anomalies', async (t) => {
  const p = new FlowPipeline({ app: false }, { onConn: () => {} })
  const pkt = newRawPacket()
  for (const f of seedFrames()) {
    pkt.linkType = f.linkType
    pkt.data = f.data
    pkt.origLen = f.data.length
    p.handle(pkt)
  }
  p.flushAll()
  t.same(p.anomalies.snapshot(), {}, 'no anomaly on valid frames')
  t.equal(p.counters.get('packets_dropped'), 0)
  t.equal(p.counters.get('datagrams_reassembled'), 1, 'the fragmented datagram was reassembled')
  t.ok(p.counters.get('packets_tunnelled') >= 3, 'GRE, VXLAN and Teredo were decapsulated')
})

t.test('random bytes on every link type: no throw, every drop counted', async (t) => {
  const info = new PacketInfo()
  const anomalies = new AnomalyCounters()
  const l4 = { v: 0 }
  let drops = 0
  fc.assert(fc.property(fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 200 }), fc.boolean(), (lt, bytes, strict) => {
    const before = Object.values(anomalies.snapshot()).reduce((a, b) => a + b, 0)
    const st = decodeFrame(lt, Buffer.from(bytes), false, info, anomalies, { ignoreChecksums: !strict }, l4)
    if (st === DECODE_DROP) {
      drops++
      const after = Object.values(anomalies.snapshot()).reduce((a, b) => a + b, 0)
      return after > before
    }
    return true
  }), { numRuns: 20000 })
  t.ok(drops > 0, `dropped frames were counted (${drops})`)
})

t.test('mutated valid frames through the whole pipeline: no throw, bounded state', async (t) => {
  const seeds = seedFrames()
  const p = new FlowPipeline({ maxFlows: 500 }, { onConn: () => {}, onWeird: () => {} })
  const pkt = newRawPacket()
  let ts = 1_700_000_000
  fc.assert(fc.property(
    fc.integer({ min: 0, max: seeds.length - 1 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.nat(),
    (i, flips, cut) => {
      const seed = seeds[i]!
      const data = Buffer.from(seed.data)
      for (const [pos, val] of flips) data[pos % data.length] = val
      const len = cut % 3 === 0 ? cut % (data.length + 1) : data.length
      pkt.linkType = seed.linkType
      pkt.data = data.subarray(0, len)
      pkt.origLen = data.length
      pkt.tsSec = ts++
      p.handle(pkt)
      return p.activeFlows <= 500
    }), { numRuns: 20000 })
  p.flushAll()
  t.equal(p.activeFlows, 0)
  t.ok(Object.keys(p.anomalies.snapshot()).length > 3, `named anomalies were counted: ${Object.keys(p.anomalies.snapshot()).join(', ')}`)
})

t.test('the unrolled checksum equals the textbook one on random buffers', async (t) => {
  const { onesComplementSum } = await import('../agent/decode/checksum.js')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat({ max: 7 }), fc.nat({ max: 0xffff }), (bytes, off, init) => {
    const b = Buffer.concat([Buffer.alloc(off), Buffer.from(bytes)])
    let s = init
    for (let i = off; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!
    if ((b.length - off) % 2) s += b[b.length - 1]! << 8
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
    return onesComplementSum(b, off, b.length - off, init) === s
  }), { numRuns: 2000 })
  t.pass('checksums agree')
})
