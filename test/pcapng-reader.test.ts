import t from 'tap'
import { parseCaptureBuffer } from '../agent/capture/capture-file.js'
import { AgentErrorCode, isAgentError } from '../agent/util/errors.js'
import { collect, CHUNK_SIZES } from './helpers/capture-collect.js'
import * as pb from './helpers/packet-builder.js'
import {
  buildPcapng, epbBlock, idbBlock, obsoletePacketBlock, pcapngBlock, PCAPNG_CUSTOM, PCAPNG_DSB, PCAPNG_ISB, PCAPNG_NRB,
  shbBlock, spbBlock, type CaptureFrame, type PcapngInterface,
} from './helpers/pcap-writer.js'

const ether = pb.ethernet({ etherType: pb.ETHERTYPE_IPV4 }, pb.ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1 }, pb.icmp({ type: 8, id: 1, seq: 1 })))
const sll = pb.linuxSll({ protocol: 0x0800 }, pb.ipv4({ src: '10.0.0.3', dst: '10.0.0.4', protocol: 17 }, pb.udp({ src: '10.0.0.3', dst: '10.0.0.4', sport: 5, dport: 6 }, Buffer.from('odd'))))
const raw = pb.ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: pb.IPPROTO_NONE }, Buffer.alloc(0))

const IFACES: PcapngInterface[] = [
  { linkType: 1, name: 'eth0' }, // default µs
  { linkType: 113, name: 'any', tsresol: 9 }, // ns
  { linkType: 101, name: 'tun0', tsresol: 0x80 | 20, tsoffset: 1_000_000_000 }, // 2^-20 s, offset
  { linkType: 1, tsresol: 3 }, // ms, no name
]

const FRAMES: CaptureFrame[] = [
  { tsSec: 1_700_000_000, tsNsec: 123_456_000, data: ether, ifIndex: 0 },
  { tsSec: 1_700_000_001, tsNsec: 999_999_999, data: sll, ifIndex: 1, comment: 'an EPB option' },
  // 500000954 ns = 524289.0003 ticks of 2^-20 s → written as 524289 → read back as 500000953.67 → 500000953.
  { tsSec: 1_700_000_002, tsNsec: 500_000_954, data: raw, ifIndex: 2 },
  { tsSec: 1_700_000_003, tsNsec: 7_000_000, data: ether.subarray(0, 20), origLen: ether.length, ifIndex: 3 },
  { tsSec: 4_400_000_000, tsNsec: 1, data: ether, ifIndex: 1 }, // beyond 2^32 s, ns exact
]

const WANT = [
  { tsSec: 1_700_000_000, tsNsec: 123_456_000, linkType: 1, ifIndex: 0, ifName: 'eth0', origLen: ether.length, data: ether.toString('hex') },
  { tsSec: 1_700_000_001, tsNsec: 999_999_999, linkType: 113, ifIndex: 1, ifName: 'any', origLen: sll.length, data: sll.toString('hex') },
  { tsSec: 1_700_000_002, tsNsec: 500_000_953, linkType: 101, ifIndex: 2, ifName: 'tun0', origLen: raw.length, data: raw.toString('hex') },
  { tsSec: 1_700_000_003, tsNsec: 7_000_000, linkType: 1, ifIndex: 3, ifName: '', origLen: ether.length, data: ether.subarray(0, 20).toString('hex') },
  { tsSec: 4_400_000_000, tsNsec: 1, linkType: 113, ifIndex: 1, ifName: 'any', origLen: ether.length, data: ether.toString('hex') },
]

function codeOf(fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return isAgentError(err) ? err.code : `not an AgentError: ${String(err)}` }
  return undefined
}

t.test('multi-interface pcapng, both byte orders, every resolution, every chunk size', async (t) => {
  for (const bigEndian of [false, true]) {
    const buf = buildPcapng(FRAMES, { bigEndian, interfaces: IFACES })
    const whole = collect(buf)
    t.same(whole.pkts, WANT, `be=${bigEndian}`)
    t.same(whole.stats.anomalies, {})
    t.equal(whole.stats.format, 'pcapng')
    t.same(whole.stats.interfaces.map((i) => [i.index, i.section, i.name, i.linkType, i.unitsPerSecond, i.tsresolNs, i.tsoffsetSec, i.supported]), [
      [0, 0, 'eth0', 1, 1e6, 1000, 0, true],
      [1, 0, 'any', 113, 1e9, 1, 0, true],
      [2, 0, 'tun0', 101, 2 ** 20, undefined, 1_000_000_000, true],
      [3, 0, '', 1, 1e3, 1_000_000, 0, true],
    ])
    for (const cs of CHUNK_SIZES) t.same(collect(buf, cs).pkts, WANT, `be=${bigEndian} chunk ${cs}`)
  }
})

t.test('SPB (cut at interface 0 snaplen, no timestamp), obsolete PB, skipped block types', async (t) => {
  for (const be of [false, true]) {
    const iface: PcapngInterface = { linkType: 1, snaplen: 30, tsresol: 9 }
    const f = { tsSec: 5, tsNsec: 6, data: ether }
    const buf = Buffer.concat([
      shbBlock(be, [[4, Buffer.from('telltale test')]]),
      pcapngBlock(PCAPNG_NRB, Buffer.alloc(12), be),
      idbBlock(iface, be),
      spbBlock(f, be),
      pcapngBlock(PCAPNG_ISB, Buffer.alloc(20), be),
      obsoletePacketBlock(f, iface, be),
      pcapngBlock(PCAPNG_CUSTOM, Buffer.from('whatever vendor data'), be),
      pcapngBlock(PCAPNG_DSB, Buffer.alloc(8), be),
      pcapngBlock(0x12345678, Buffer.alloc(0), be),
      epbBlock(f, iface, be),
    ])
    for (const cs of [undefined, 1, 9]) {
      const r = collect(buf, cs)
      t.same(r.pkts.map((p) => [p.tsSec, p.tsNsec, p.origLen, p.data.length / 2]), [[0, 0, ether.length, 30], [5, 6, ether.length, ether.length], [5, 6, ether.length, ether.length]])
      t.same(r.stats.anomalies, { caplen_exceeds_snaplen: 2 }, 'PB and EPB above the declared snaplen are delivered and counted')
    }
  }
})

t.test('a new section (other byte order) resets the interface list', async (t) => {
  const f = (ifIndex: number, tsSec: number): CaptureFrame => ({ tsSec, tsNsec: 0, data: ether, ifIndex })
  const buf = Buffer.concat([
    shbBlock(false), idbBlock({ linkType: 1, name: 'a0' }), idbBlock({ linkType: 1, name: 'a1' }),
    epbBlock(f(1, 10), { linkType: 1 }),
    shbBlock(true), idbBlock({ linkType: 113, name: 'b0', tsresol: 9 }, true),
    epbBlock(f(0, 11), { linkType: 113, tsresol: 9 }, true),
    epbBlock(f(1, 12), { linkType: 1 }, true), // interface 1 does not exist in this section
    epbBlock(f(0, 13), { linkType: 113, tsresol: 9 }, true),
  ])
  for (const cs of [undefined, 1, 50]) {
    const r = collect(buf, cs)
    t.same(r.pkts.map((p) => [p.tsSec, p.ifIndex, p.ifName, p.linkType]), [[10, 1, 'a1', 1], [11, 2, 'b0', 113], [13, 2, 'b0', 113]])
    t.same(r.stats.anomalies, { pcapng_unknown_interface: 1 })
    t.same(r.stats.interfaces.map((i) => [i.index, i.section, i.indexInSection, i.name]), [[0, 0, 0, 'a0'], [1, 0, 1, 'a1'], [2, 1, 0, 'b0']])
  }
})

t.test('unsupported linktypes: fatal only when no interface is supported', async (t) => {
  const wifi: PcapngInterface = { linkType: 105, name: 'wlan0' }
  t.equal(codeOf(() => parseCaptureBuffer(buildPcapng([{ tsSec: 1, tsNsec: 0, data: ether }], { interfaces: [wifi] }), () => {})),
    AgentErrorCode.FILE_UNSUPPORTED_LINKTYPE)
  const mixed = buildPcapng([
    { tsSec: 1, tsNsec: 0, data: ether, ifIndex: 1 },
    { tsSec: 2, tsNsec: 0, data: ether, ifIndex: 0 },
    { tsSec: 3, tsNsec: 0, data: ether, ifIndex: 1 },
  ], { interfaces: [{ linkType: 1 }, wifi] })
  const r = collect(mixed)
  t.same(r.pkts.map((p) => p.tsSec), [2])
  t.same(r.stats.anomalies, { unsupported_link_type: 2 })
  t.same(r.stats.interfaces.map((i) => i.supported), [true, false])
})

t.test('framing errors are named anomalies and stop cleanly; record errors skip the block', async (t) => {
  const good = buildPcapng(FRAMES, { interfaces: IFACES })
  const blocks: number[] = [] // offsets of every block
  for (let o = 0; o < good.length; o += good.readUInt32LE(o + 4)) blocks.push(o)
  const epb2 = blocks[5 + 2]! // SHB, 4 IDBs, then EPBs
  const run = (buf: Buffer): Array<[number, Record<string, number>]> =>
    [undefined, 1, 13].map((cs) => { const r = collect(buf, cs); return [r.stats.packets, r.stats.anomalies] })

  const trailer = Buffer.from(good)
  trailer.writeUInt32LE(0xdead, blocks[8]! - 4) // EPB 2's trailing length
  t.same(run(trailer), Array(3).fill([2, { pcapng_block_length_mismatch: 1, capture_parse_stopped: 1 }]), 'trailing length mismatch')

  const notMul4 = Buffer.from(good)
  notMul4.writeUInt32LE(notMul4.readUInt32LE(epb2 + 4) + 2, epb2 + 4)
  t.same(run(notMul4), Array(3).fill([2, { pcapng_bad_block_length: 1, capture_parse_stopped: 1 }]), 'length not a multiple of 4')

  const huge = Buffer.from(good)
  huge.writeUInt32LE(0x7ffffff0, epb2 + 4)
  t.same(run(huge), Array(3).fill([2, { pcapng_bad_block_length: 1, capture_parse_stopped: 1 }]), 'absurd length is an anomaly, not an allocation')

  const caplen = Buffer.from(good)
  caplen.writeUInt32LE(10_000, epb2 + 20)
  t.same(run(caplen), Array(3).fill([4, { pcapng_packet_exceeds_block: 1 }]), 'caplen past the block: skipped, reading goes on')

  const implausible = Buffer.from(good)
  implausible.writeUInt32LE(0x01000000, epb2 + 20)
  t.same(run(implausible), Array(3).fill([4, { implausible_caplen: 1 }]))

  const badIf = Buffer.from(good)
  badIf.writeUInt32LE(9, epb2 + 8)
  t.same(run(badIf), Array(3).fill([4, { pcapng_unknown_interface: 1 }]))

  const badOpt = Buffer.from(good)
  badOpt.writeUInt16LE(0xfff0, blocks[1]! + 16 + 2) // if_name length runs past the IDB
  const r = collect(badOpt)
  t.same([r.stats.packets, r.stats.anomalies, r.stats.interfaces[0]!.name], [5, { pcapng_bad_option: 1 }, ''])

  for (const cut of [1, 4, 30]) {
    t.same(run(good.subarray(0, good.length - cut)), Array(3).fill([4, { truncated_capture_record: 1 }]), `truncated by ${cut}`)
  }
})

t.test('not a capture: bad byte-order magic in the first section header', async (t) => {
  const shb = shbBlock()
  shb.writeUInt32LE(0x11223344, 8)
  t.equal(codeOf(() => parseCaptureBuffer(shb, () => {})), AgentErrorCode.FILE_NOT_A_CAPTURE)
  const short = shbBlock()
  short.writeUInt32LE(20, 4)
  t.equal(codeOf(() => parseCaptureBuffer(short, () => {})), AgentErrorCode.FILE_NOT_A_CAPTURE)
})
