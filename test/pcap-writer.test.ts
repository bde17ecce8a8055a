import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as pb from './helpers/packet-builder.js'
import { foldChecksum, sum16 } from './helpers/inet-checksum.js'
import {
  buildPcap, buildPcapng, idbBlock, pcapHeader, pcapngTimestampUnits, PcapFileWriter, writeCaptureFile,
  type CaptureFrame,
} from './helpers/pcap-writer.js'
import { icmpEcho, mergeByTime, tcpConversation, udpExchange } from './helpers/traffic.js'

const TCPDUMP = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p))
const dir = mkdtempSync(join(tmpdir(), 'telltale-pcap-writer-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function tcpdump(file: string, ...args: string[]): string {
  return execFileSync(TCPDUMP!, ['-r', file, '-nn', '-vv', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

const C = '10.0.0.1'
const S = '10.0.0.2'
const C6 = '2001:db8::1'
const S6 = '2001:db8::2'
const eth4 = (p: Buffer): Buffer => pb.ethernet({ etherType: pb.ETHERTYPE_IPV4 }, p)
const eth6 = (p: Buffer): Buffer => pb.ethernet({ etherType: pb.ETHERTYPE_IPV6 }, p)
const frames = (list: Buffer[]): CaptureFrame[] => list.map((data, i) => ({ tsSec: 1_700_000_000 + i, tsNsec: i * 1000, data }))

t.test('classic pcap header: magic, byte order, precision, linktype', async (t) => {
  t.equal(pcapHeader().toString('hex'), 'd4c3b2a102000400' + '0000000000000000' + '00000400' + '01000000')
  t.equal(pcapHeader({ bigEndian: true, nanosecond: true, linkType: 113, snaplen: 65535 }).toString('hex'),
    'a1b23c4d00020004' + '0000000000000000' + '0000ffff' + '00000071')
  const rec = buildPcap([{ tsSec: 1, tsNsec: 2_345_678, data: Buffer.from([1, 2, 3]), origLen: 60 }]).subarray(24)
  t.same([rec.readUInt32LE(0), rec.readUInt32LE(4), rec.readUInt32LE(8), rec.readUInt32LE(12)], [1, 2345, 3, 60])
  const recNs = buildPcap([{ tsSec: 1, tsNsec: 2_345_678, data: Buffer.from([1, 2, 3]) }], { nanosecond: true, bigEndian: true }).subarray(24)
  t.same([recNs.readUInt32BE(0), recNs.readUInt32BE(4), recNs.readUInt32BE(8), recNs.readUInt32BE(12)], [1, 2345678, 3, 3])
})

t.test('pcapng blocks: IDB options and timestamp units per resolution', async (t) => {
  const idb = idbBlock({ linkType: 113, name: 'eth0', tsresol: 9, tsoffset: 10, snaplen: 1500 })
  t.equal(idb.readUInt32LE(0), 1)
  t.equal(idb.readUInt32LE(4), idb.length)
  t.equal(idb.readUInt32LE(idb.length - 4), idb.length)
  t.equal(idb.readUInt16LE(8), 113)
  t.equal(idb.readUInt32LE(12), 1500)
  t.equal(idb.subarray(20, 24).toString(), 'eth0')
  const f = { tsSec: 1_700_000_010, tsNsec: 123_456_789, data: Buffer.alloc(0) }
  t.equal(pcapngTimestampUnits(f, { linkType: 1 }), 1_700_000_010_123_456n)
  t.equal(pcapngTimestampUnits(f, { linkType: 1, tsresol: 9, tsoffset: 10 }), 1_700_000_000_123_456_789n)
  t.equal(pcapngTimestampUnits({ ...f, tsNsec: 500_000_000 }, { linkType: 1, tsresol: 0x80 | 20 }), (1_700_000_010n << 20n) + (1n << 19n))
})

t.test('builders produce checksums that verify (own check)', async (t) => {
  const ip = pb.ipv4({ src: C, dst: S, protocol: pb.IPPROTO_UDP, options: Buffer.from([1, 1, 1]) }, Buffer.alloc(0))
  t.equal(ip[0], 0x46, 'IHL counts the padded options')
  t.equal(foldChecksum(sum16(ip, 0, 24)), 0, 'IPv4 header checksum verifies')
  const ic = pb.icmp({ type: 8, id: 7, seq: 9 }, Buffer.from('odd'))
  t.equal(foldChecksum(sum16(ic, 0, ic.length)), 0, 'ICMP checksum verifies')
  const bad = pb.icmp({ type: 8, badChecksum: true })
  t.not(foldChecksum(sum16(bad, 0, bad.length)), 0, 'badChecksum corrupts')
  t.equal(pb.tcpFlags('SA'), 0x12)
  t.equal(pb.tcpFlags('FA'), 0x11)
  t.equal(pb.tcpFlags('RA'), 0x14)
  t.throws(() => pb.tcpFlags('X'))
  t.same([...pb.parseIpv6('::ffff:1.2.3.4')], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4])
  t.same(pb.mpls([{ label: 16, ttl: 5 }], Buffer.alloc(0)).readUInt32BE(0), (16 << 12) | 0x100 | 5)
  const frags = pb.ipv4Fragments({ src: C, dst: S, protocol: 17, id: 5 }, Buffer.alloc(100), 40)
  t.same(frags.map((f) => [f.readUInt16BE(6) & 0x1fff, (f.readUInt16BE(6) & 0x2000) !== 0, f.length - 20]),
    [[0, true, 40], [5, true, 40], [10, false, 20]])
})

t.test('tcpdump decodes every builder and validates checksums', { skip: TCPDUMP ? false : 'tcpdump not installed' }, async (t) => {
  const file = join(dir, 'builders.pcap')
  writeCaptureFile(file, frames([
    eth4(pb.ipv4({ src: C, dst: S, protocol: pb.IPPROTO_TCP, id: 7, df: true }, pb.tcp({
      src: C, dst: S, sport: 1234, dport: 80, flags: 'S', seq: 1000,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'sackOk' }, { kind: 'ts', val: 1, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', value: 7 }],
    }))),
    eth4(pb.ipv4({ src: C, dst: S, protocol: pb.IPPROTO_UDP }, pb.udp({ src: C, dst: S, sport: 40000, dport: 40001 }, Buffer.from('hello!!')))),
    eth4(pb.ipv4({ src: C, dst: S, protocol: pb.IPPROTO_ICMP }, pb.icmp({ type: 8, id: 1, seq: 2 }, Buffer.from('abcdefg')))),
    eth6(pb.ipv6({ src: C6, dst: S6, nextHeader: pb.IPPROTO_TCP, extHeaders: [{ type: 'hop-by-hop' }, { type: 'destination', options: Buffer.from([1, 1, 0]) }] },
      pb.tcp({ src: C6, dst: S6, sport: 1, dport: 2, flags: 'PA' }, Buffer.from('xyz')))),
    eth6(pb.ipv6({ src: C6, dst: S6, nextHeader: pb.IPPROTO_ICMPV6 }, pb.icmpv6({ src: C6, dst: S6, type: 128, id: 3, seq: 4 }, Buffer.from('ping')))),
    eth4(pb.ipv4({ src: C, dst: S, protocol: pb.IPPROTO_GRE }, pb.gre({ key: 5, seq: 9, checksum: true },
      pb.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 17 }, pb.udp({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2 }))))),
    pb.ethernet({ etherType: pb.ETHERTYPE_IPV4, vlans: [{ id: 100, tpid: pb.ETHERTYPE_QINQ }, 200] },
      pb.ipv4({ src: C, dst: S, protocol: 17 }, pb.udp({ src: C, dst: S, sport: 1, dport: 2 }))),
    pb.ethernet({ etherType: pb.ETHERTYPE_ARP, dst: 'ff:ff:ff:ff:ff:ff' }, pb.arp({ op: 'request', senderMac: '02:00:00:00:00:01', senderIp: C, targetIp: S })),
    eth4(pb.ipv4({ src: C, dst: S, protocol: pb.IPPROTO_TCP, badChecksum: true }, pb.tcp({ src: C, dst: S, sport: 1234, dport: 80, flags: 'S', badChecksum: true }))),
    pb.ethernet({ etherType: pb.ETHERTYPE_MPLS }, pb.mpls([100, 200], pb.ipv4({ src: C, dst: S, protocol: 1 }, pb.icmp({ type: 8 })))),
    pb.ethernet({ etherType: pb.ETHERTYPE_PPPOE_SESSION }, pb.pppoeSession({ pppProtocol: pb.PPP_IPV4 }, pb.ipv4({ src: C, dst: S, protocol: 1 }, pb.icmp({ type: 8 })))),
    eth4(pb.ipv4({ src: C, dst: S, protocol: 17 }, pb.teredoUdp({ src: C, dst: S }, pb.ipv6({ src: C6, dst: S6, nextHeader: pb.IPPROTO_NONE }, Buffer.alloc(0))))),
    eth4(pb.ipv4({ src: C, dst: S, protocol: 17 }, pb.vxlanUdp({ src: C, dst: S, vni: 42 }, eth4(pb.ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 1 }, pb.icmp({ type: 8 })))))),
  ]))
  const out = tcpdump(file, '-e').split('\n')
  const lines = out.join('\n')
  t.match(lines, /Flags \[S\], cksum 0x[0-9a-f]+ \(correct\), seq 1000, win 65535, options \[mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7\]/)
  t.match(lines, /10\.0\.0\.1\.40000 > 10\.0\.0\.2\.40001: \[udp sum ok\] UDP, length 7/)
  t.match(lines, /ICMP echo request, id 1, seq 2, length 15/)
  t.match(lines, /HBH .* DSTOPT .* 1 > 2: Flags \[P\.\], cksum 0x[0-9a-f]+ \(correct\)/)
  t.match(lines, /\[icmp6 sum ok\] ICMP6, echo request, id 3, seq 4/)
  t.match(lines, /GREv0, Flags \[checksum present, key present, sequence# present\].*key=0x5, seq 9/)
  t.match(lines, /1\.1\.1\.1\.1 > 2\.2\.2\.2\.2: \[udp sum ok\]/)
  t.match(lines, /ethertype 802\.1Q-QinQ \(0x88a8\).*vlan 100, p 0, ethertype 802\.1Q \(0x8100\), vlan 200/)
  t.match(lines, /Request who-has 10\.0\.0\.2 tell 10\.0\.0\.1, length 28/)
  t.match(lines, /bad cksum [0-9a-f]+ \(->[0-9a-f]+\)!/, 'corrupted IPv4 header checksum detected')
  t.match(lines, /cksum 0x[0-9a-f]+ \(incorrect -> 0x[0-9a-f]+\)/, 'corrupted TCP checksum detected')
  t.match(lines, /MPLS \(label 100, tc 0, ttl 64\)\s+\(label 200, tc 0, \[S\], ttl 64\)/)
  t.match(lines, /PPPoE\s+\[ses 0x1\] IP \(0x0021\)/)
  t.match(lines, /10\.0\.0\.2\.3544: \[udp sum ok\]/)
  t.match(lines, /10\.0\.0\.2\.4789: \[udp sum ok\]/)
  t.equal(out.filter((l) => /incorrect|bad cksum|wrong/.test(l)).length, 2, 'only the deliberately corrupted packet is flagged')
})

t.test('traffic generators: sequence numbers, flags, checksums (tcpdump -S)', { skip: TCPDUMP ? false : 'tcpdump not installed' }, async (t) => {
  const conv = tcpConversation({
    client: { ip: C, port: 40000 }, server: { ip: S, port: 80 }, t0: 1_700_000_000.5, rttUs: 1000,
    exchanges: [{ from: 'orig', bytes: 100 }, { from: 'resp', bytes: 3000 }],
  })
  t.equal(conv.length, 12)
  const udps = udpExchange({ client: { ip: C6, port: 5000 }, server: { ip: S6, port: 53 }, t0: 1_700_000_001, ipv6: true, vlan: 5,
    exchanges: [{ from: 'orig', bytes: 33 }, { from: 'resp', bytes: 101 }] })
  const pings = icmpEcho({ client: { ip: C }, server: { ip: S }, t0: 1_700_000_002, count: 2 })
  const file = join(dir, 'traffic.pcap')
  writeCaptureFile(file, mergeByTime(conv, udps, pings), { nanosecond: true })
  const out = tcpdump(file, '-S', '--time-stamp-precision=nano').trim().split('\n').filter((l) => /^\s/.test(l) || /IP6/.test(l))
  const text = out.join('\n')
  t.notMatch(text, /incorrect|bad cksum|wrong/)
  const tcpLines = out.filter((l) => /Flags/.test(l))
  t.same(tcpLines.map((l) => /Flags \[([^\]]*)\]/.exec(l)![1]), ['S', 'S.', '.', 'P.', '.', '.', '.', 'P.', '.', 'F.', 'F.', '.'])
  t.match(tcpLines[1]!, /seq 536870912, ack 268435457/)
  t.match(tcpLines[3]!, /seq 268435457:268435557, ack 536870913, .*length 100/)
  t.match(tcpLines[7]!, /seq 536873833:536873913, ack 268435557, .*length 80/)
  t.match(tcpLines[11]!, /seq 268435558, ack 536873914/)
  t.match(text, /2001:db8::1\.5000 > 2001:db8::2\.53: \[udp sum ok\]/)
  t.match(text, /ICMP echo reply, id 4660, seq 2, length 64/)
  // Timestamps strictly increase and the SYN-ACK comes one RTT after the SYN.
  t.equal(conv[0]!.tsSec, 1_700_000_000)
  t.equal(conv[0]!.tsNsec, 500_000_000)
  t.equal(conv[1]!.tsNsec - conv[0]!.tsNsec, 1_000_000)
  for (let i = 1; i < conv.length; i++) t.ok(conv[i]!.tsNsec > conv[i - 1]!.tsNsec)
  t.equal(tcpConversation({ client: { ip: C, port: 1 }, server: { ip: S, port: 2 }, t0: 0, open: 'rejected' }).length, 2)
  t.equal(tcpConversation({ client: { ip: C, port: 1 }, server: { ip: S, port: 2 }, t0: 0, open: 'syn-only' }).length, 1)
  const mid = tcpConversation({ client: { ip: C6, port: 1 }, server: { ip: S6, port: 2 }, t0: 0, ipv6: true, open: 'none', close: 'rst-resp', exchanges: [{ from: 'orig', bytes: 10 }] })
  t.equal(mid.length, 3)
})

t.test('pcapng with several interfaces is read by libpcap', { skip: TCPDUMP ? false : 'tcpdump not installed' }, async (t) => {
  const f = frames([eth4(pb.ipv4({ src: C, dst: S, protocol: 1 }, pb.icmp({ type: 8, id: 1, seq: 1 }))),
    eth4(pb.ipv4({ src: S, dst: C, protocol: 1 }, pb.icmp({ type: 0, id: 1, seq: 1 })))])
  f[0]!.tsNsec = 123_456_789
  f[1]!.ifIndex = 1
  for (const bigEndian of [false, true]) {
    const file = join(dir, `multi-${bigEndian ? 'be' : 'le'}.pcapng`)
    writeCaptureFile(file, f, { format: 'pcapng', bigEndian, interfaces: [{ linkType: 1, name: 'eth0', tsresol: 9 }, { linkType: 1, name: 'eth1' }] })
    const out = tcpdump(file, '--time-stamp-precision=nano', '-tt')
    t.match(out, /1700000000\.123456789 IP [\s\S]*?ICMP echo request/)
    t.match(out, /1700000001\.000001000 IP [\s\S]*?ICMP echo reply/)
  }
})

t.test('PcapFileWriter streams the same bytes as buildPcap', async (t) => {
  const conv = tcpConversation({ client: { ip: C, port: 40000 }, server: { ip: S, port: 80 }, t0: 1_700_000_000, exchanges: [{ from: 'resp', bytes: 100_000 }] })
  const file = join(dir, 'stream.pcap')
  const w = new PcapFileWriter(file, { nanosecond: true })
  for (const fr of conv) w.write(fr)
  w.close()
  const { readFileSync } = await import('node:fs')
  t.same(readFileSync(file), buildPcap(conv, { nanosecond: true }))
  t.equal(buildPcapng(conv).readUInt32LE(0), 0x0a0d0d0a)
})
