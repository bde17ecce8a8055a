import t from 'tap'
import fc from 'fast-check'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compileFilter, createPacketFilter, parseDddProgram } from '../agent/capture/bpf-compile.js'
import { bpfProgram, runBpf, type BpfInsn } from '../agent/capture/bpf-vm.js'
import { AgentErrorCode, isAgentError } from '../agent/util/errors.js'
import { newRawPacket } from '../agent/capture/raw-packet.js'
import {
  arp, ethernet, gre, icmpv6, ipv4, ipv4Fragments, ipv6, linuxSll, mpls, tcp, udp,
  ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS, IPPROTO_GRE, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP,
} from './helpers/packet-builder.js'
import { writeCaptureFile, type CaptureFrame } from './helpers/pcap-writer.js'
import { labTraffic } from './helpers/netns.js'

let tcpdumpSkip: string | false = false
try {
  execFileSync('tcpdump', ['--version'], { stdio: 'ignore' })
} catch {
  tcpdumpSkip = 'tcpdump (the oracle and libpcap\'s compiler) is not installed: apt-get install tcpdump'
}

/** Frames numbered by their timestamp (second = 1e9 + index) so tcpdump's output names them. */
function numbered(datas: Array<{ data: Buffer; origLen?: number }>): CaptureFrame[] {
  return datas.map((d, i) => ({ tsSec: 1_000_000_000 + i, tsNsec: 0, data: d.data, ...(d.origLen !== undefined ? { origLen: d.origLen } : {}) }))
}

/** Indices of the frames tcpdump kept (read back from its -w output). */
function tcpdumpVerdicts(file: string, out: string, expr: string): Set<number> {
  execFileSync('tcpdump', ['-r', file, '-w', out, '--', expr], { stdio: 'ignore', timeout: 30_000 })
  const b = readFileSync(out)
  const magic = b.readUInt32LE(0)
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d
  const r32 = (o: number): number => le ? b.readUInt32LE(o) : b.readUInt32BE(o)
  const kept = new Set<number>()
  for (let off = 24; off + 16 <= b.length;) {
    kept.add(r32(off) - 1_000_000_000)
    off += 16 + r32(off + 8)
  }
  return kept
}

function ourVerdicts(frames: CaptureFrame[], linkType: number, expr: string): Set<number> {
  const accept = createPacketFilter(expr)
  const pkt = newRawPacket()
  pkt.linkType = linkType
  const kept = new Set<number>()
  frames.forEach((f, i) => {
    pkt.data = f.data
    pkt.origLen = f.origLen ?? f.data.length
    if (accept(pkt)) kept.add(i)
  })
  return kept
}

function ethernetZoo(): Array<{ data: Buffer; origLen?: number }> {
  const out: Array<{ data: Buffer; origLen?: number }> = labTraffic(120).map((f) => ({ data: f.data }))
  const eth = (etherType: number, payload: Buffer, vlans?: number[]): Buffer => ethernet({ etherType, ...(vlans ? { vlans } : {}) }, payload)
  const t4 = (flags: string, sport: number, dport: number, payload = Buffer.alloc(0)): Buffer =>
    ipv4({ src: '10.9.0.1', dst: '10.9.0.2', protocol: IPPROTO_TCP }, tcp({ src: '10.9.0.1', dst: '10.9.0.2', sport, dport, flags }, payload))
  for (const flags of ['S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', 'U', 'SE']) out.push({ data: eth(ETHERTYPE_IPV4, t4(flags, 40000, 443, Buffer.from('ABCDEFGH'))) })
  out.push({ data: eth(ETHERTYPE_IPV4, t4('PA', 40001, 8080, Buffer.alloc(1200, 0x41))) })
  out.push({ data: eth(ETHERTYPE_ARP, arp({ op: 'request', senderMac: '02:00:00:00:00:01', senderIp: '10.9.0.1', targetIp: '10.9.0.2' })) })
  out.push({ data: ethernet({ etherType: ETHERTYPE_ARP, dst: 'ff:ff:ff:ff:ff:ff' }, arp({ op: 'request', senderMac: '02:00:00:00:00:03', senderIp: '10.9.0.3', targetIp: '10.9.0.4' })) })
  const l4 = udp({ src: '10.9.0.5', dst: '10.9.0.6', sport: 5000, dport: 53 }, Buffer.alloc(3000, 0x42))
  for (const frag of ipv4Fragments({ src: '10.9.0.5', dst: '10.9.0.6', protocol: IPPROTO_UDP, id: 77 }, l4, 1400)) out.push({ data: eth(ETHERTYPE_IPV4, frag) })
  out.push({ data: eth(ETHERTYPE_IPV4, ipv4({ src: '10.9.0.7', dst: '10.9.0.8', protocol: IPPROTO_UDP, options: Buffer.from([1, 1, 1, 0]) }, udp({ src: '10.9.0.7', dst: '10.9.0.8', sport: 1, dport: 2 }, Buffer.from('xy')))) })
  out.push({ data: eth(ETHERTYPE_IPV4, ipv4({ src: '10.9.0.9', dst: '10.9.0.10', protocol: IPPROTO_GRE }, gre({ protocol: ETHERTYPE_IPV4 }, t4('S', 1, 2)))) })
  out.push({ data: eth(ETHERTYPE_IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: IPPROTO_TCP, extHeaders: [{ type: 'hop-by-hop' }] }, tcp({ src: '2001:db8::1', dst: '2001:db8::2', sport: 3333, dport: 80, flags: 'S' }))) })
  out.push({ data: eth(ETHERTYPE_IPV6, ipv6({ src: '2001:db8::3', dst: 'ff02::1', nextHeader: IPPROTO_ICMPV6 }, icmpv6({ type: 135, src: '2001:db8::3', dst: 'ff02::1' }))) })
  out.push({ data: eth(ETHERTYPE_MPLS, mpls([100, 200], t4('S', 7, 80))) })
  out.push({ data: eth(ETHERTYPE_IPV4, t4('S', 9, 80), [10, 20]) })
  // Cut by a snaplen: the wire length is bigger than what was captured.
  const big = eth(ETHERTYPE_IPV4, t4('PA', 5555, 80, Buffer.alloc(900, 0x43)))
  out.push({ data: big.subarray(0, 40), origLen: big.length })
  out.push({ data: big.subarray(0, 64), origLen: big.length })
  out.push({ data: big.subarray(0, 10), origLen: big.length })
  return out
}

const ETHERNET_FILTERS = [
  'host 10.1.0.5', 'src host 192.0.2.8', 'dst host 10.9.0.2', 'net 10.1.0.0/16', 'dst net 192.0.2.0/25',
  'port 53', 'tcp port 80', 'src port 80', 'portrange 20000-20100', 'tcp portrange 20000-20020',
  'tcp', 'udp', 'icmp', 'icmp6', 'ip', 'ip6', 'arp', 'not tcp', 'ip6 and tcp', 'ip6 host 2001:db8:ffff::80',
  'vlan', 'vlan 101', 'vlan and udp', 'vlan 10 and vlan 20', 'mpls', 'mpls 100 and mpls 200',
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-rst|tcp-fin) != 0', 'tcp[tcpflags] == tcp-syn|tcp-ack',
  'greater 100', 'less 80', 'len > 1000', 'len <= 60',
  'ether host 02:00:00:00:00:01', 'ether broadcast', 'ether proto 0x0806',
  'ip[6:2] & 0x1fff != 0', 'ip[0] & 0xf > 5', 'ip proto 47', 'ip[2:2] / 4 > 100', 'ip[2:2] % 7 = 3',
  'ip[8] ^ 0xff = 0xbf', 'ip[2:2] * 3 - 7 > 500', '(ip[2:2] << 2) >> 3 > 60', '-ip[8] & 0xff = 0xc0',
  'udp[8:2] = 0x4142', 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x41424344', 'ip6[6] = 0', 'icmp6 and ip6[40] = 135',
  'tcp[20:4] = 0x41424344 or udp', '(tcp or udp) and not (port 53 or port 80)',
]

t.test('our VM agrees with tcpdump packet for packet (Ethernet)', { skip: tcpdumpSkip }, async (t) => {
  const frames = numbered(ethernetZoo())
  const dir = t.testdir()
  const file = join(dir, 'zoo.pcap')
  writeCaptureFile(file, frames)
  const trivial: string[] = []
  for (const expr of ETHERNET_FILTERS) {
    const want = tcpdumpVerdicts(file, join(dir, 'out.pcap'), expr)
    const got = ourVerdicts(frames, 1, expr)
    if (want.size === 0 || want.size === frames.length) trivial.push(`${expr} (${want.size})`)
    const missing = [...want].filter((i) => !got.has(i))
    const extra = [...got].filter((i) => !want.has(i))
    t.ok(missing.length === 0 && extra.length === 0,
      `"${expr}": tcpdump keeps ${want.size}, we keep ${got.size}${missing.length + extra.length ? ` (missing ${missing.slice(0, 5).join(',')} extra ${extra.slice(0, 5).join(',')})` : ''}`)
  }
  t.same(trivial, [], 'every filter keeps some packets and drops others (the fixture exercises it)')
})

t.test('our VM agrees with tcpdump on other link types (SLL, raw IP)', { skip: tcpdumpSkip }, async (t) => {
  const base = labTraffic(40).map((f) => f.data)
  const ipPayload = (d: Buffer): Buffer => d.subarray(d.readUInt16BE(12) === 0x8100 ? 18 : 14)
  const etherTypeOf = (d: Buffer): number => d.readUInt16BE(12) === 0x8100 ? d.readUInt16BE(16) : d.readUInt16BE(12)
  const sll = numbered(base.map((d) => ({ data: linuxSll({ protocol: etherTypeOf(d), addr: '02:00:00:00:00:09' }, ipPayload(d)) })))
  const raw = numbered(base.map((d) => ({ data: ipPayload(d) })))
  const dir = t.testdir()
  for (const [name, frames, linkType] of [['sll', sll, 113], ['raw', raw, 101]] as const) {
    const file = join(dir, `${name}.pcap`)
    writeCaptureFile(file, frames, { linkType })
    for (const expr of ['tcp', 'udp port 53', 'icmp or icmp6', 'ip6', 'host 10.1.0.3', 'tcp[tcpflags] & tcp-fin != 0', 'greater 200']) {
      const want = tcpdumpVerdicts(file, join(dir, 'out.pcap'), expr)
      const got = ourVerdicts(frames, linkType, expr)
      t.same([...got].sort((a, b) => a - b), [...want].sort((a, b) => a - b), `${name}: "${expr}" (${want.size} kept)`)
    }
  }
})

t.test('a bad filter is one clear line with libpcap\'s message', { skip: tcpdumpSkip }, async (t) => {
  const expectBad = (fn: () => unknown, re: RegExp, what: string): void => {
    try {
      fn()
      t.fail(`${what}: should throw`)
    } catch (err) {
      t.ok(isAgentError(err) && err.code === AgentErrorCode.CAPTURE_BAD_FILTER, `${what}: CAPTURE_BAD_FILTER`)
      t.match((err as Error).message, re, what)
      t.notMatch((err as Error).message, /\n/, `${what}: one line`)
    }
  }
  expectBad(() => compileFilter('tcp and and', 1), /bad capture filter "tcp and and".*syntax error/, 'syntax error')
  expectBad(() => compileFilter('port nosuchservice', 1), /unknown port 'nosuchservice'/, 'unknown port')
  expectBad(() => compileFilter('ether host 02:00:00:00:00:01', 101), /ether host 02:00:00:00:00:01.*link type 101/, 'Ethernet primitive on raw IP')
  const accept = createPacketFilter('tcp port 99999999')
  const pkt = newRawPacket()
  pkt.data = Buffer.alloc(60)
  pkt.origLen = 60
  expectBad(() => accept(pkt), /port/, 'reported at the first packet')
  expectBad(() => createPacketFilter('udp or or', { validateFor: [1] }), /syntax error/, 'validateFor compiles up front')
  t.ok(createPacketFilter('')(pkt), 'the empty filter accepts everything')
})

t.test('a missing tcpdump is reported as such', async (t) => {
  const saved = process.env.TELLTALE_TCPDUMP
  process.env.TELLTALE_TCPDUMP = '/nonexistent/tcpdump'
  t.teardown(() => { if (saved === undefined) delete process.env.TELLTALE_TCPDUMP; else process.env.TELLTALE_TCPDUMP = saved })
  try {
    compileFilter('udp and port 4242', 1)
    t.fail('should throw')
  } catch (err) {
    t.ok(isAgentError(err) && err.code === AgentErrorCode.CAPTURE_FILTER_COMPILER_MISSING)
    t.match((err as Error).message, /apt-get install tcpdump/)
  }
})

t.test('programs are cached per link type', { skip: tcpdumpSkip }, async (t) => {
  const a = compileFilter('udp', 1)
  t.equal(compileFilter('udp', 1), a, 'same program object on a second compile')
  t.not(compileFilter('udp', 113), a, 'another link type compiles its own')
})

t.test('VM: classic BPF semantics at the edges', async (t) => {
  const P = (insns: Array<[number, number, number, number]>) => bpfProgram(insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k })))
  const pkt = Buffer.from([0x45, 0x00, 0x01, 0x02, 0xff, 0xfe, 0x80, 0x00])
  t.equal(runBpf(P([[0x20, 0, 0, 0], [0x16, 0, 0, 0]]), pkt, 8), 0x45000102, 'ld [0] word, ret a')
  t.equal(runBpf(P([[0x20, 0, 0, 5], [0x06, 0, 0, 1]]), pkt, 8), 0, 'word load past the end rejects')
  t.equal(runBpf(P([[0x30, 0, 0, 8], [0x06, 0, 0, 1]]), pkt, 8), 0, 'byte load at caplen rejects')
  t.equal(runBpf(P([[0x28, 0, 0, 6], [0x16, 0, 0, 0]]), pkt, 8, 7), 0, 'bounds use caplen, not the buffer size')
  t.equal(runBpf(P([[0x80, 0, 0, 0], [0x16, 0, 0, 0]]), pkt, 1500), 1500, 'ld len = wire length')
  t.equal(runBpf(P([[0xb1, 0, 0, 0], [0x87, 0, 0, 0], [0x16, 0, 0, 0]]), pkt, 8), 20, 'ldx 4*([0]&0xf); txa')
  t.equal(runBpf(P([[0x01, 0, 0, 2], [0x48, 0, 0, 2], [0x16, 0, 0, 0]]), pkt, 8), 0xfffe, 'ldh [x+2]')
  t.equal(runBpf(P([[0x01, 0, 0, 7], [0x50, 0, 0, 0], [0x16, 0, 0, 0]]), pkt, 8), 0, 'ldb [x+0] ok at 7')
  t.equal(runBpf(P([[0x01, 0, 0, 8], [0x50, 0, 0, 0], [0x06, 0, 0, 1]]), pkt, 8), 0, 'ldb [x+0] past the end rejects')
  t.equal(runBpf(P([[0x00, 0, 0, 10], [0x01, 0, 0, 0], [0x3c, 0, 0, 0], [0x06, 0, 0, 1]]), pkt, 8), 0, 'div by X = 0 rejects')
  t.equal(runBpf(P([[0x00, 0, 0, 10], [0x94, 0, 0, 0], [0x06, 0, 0, 1]]), pkt, 8), 0, 'mod by k = 0 rejects')
  t.equal(runBpf(P([[0x00, 0, 0, 10], [0x34, 0, 0, 3], [0x16, 0, 0, 0]]), pkt, 8), 3, 'div k')
  t.equal(runBpf(P([[0x00, 0, 0, 1], [0x64, 0, 0, 31], [0x16, 0, 0, 0]]), pkt, 8), 0x80000000, 'lsh 31 stays unsigned')
  t.equal(runBpf(P([[0x00, 0, 0, 1], [0x01, 0, 0, 32], [0x6c, 0, 0, 0], [0x16, 0, 0, 0]]), pkt, 8), 0, 'lsh x>=32 gives 0')
  t.equal(runBpf(P([[0x00, 0, 0, 5], [0x84, 0, 0, 0], [0x16, 0, 0, 0]]), pkt, 8), 0xfffffffb, 'neg')
  t.equal(runBpf(P([[0x00, 0, 0, 0xffffffff], [0x04, 0, 0, 2], [0x16, 0, 0, 0]]), pkt, 8), 1, 'add wraps at 2^32')
  t.equal(runBpf(P([[0x00, 0, 0, 0x10000], [0x24, 0, 0, 0x10000], [0x16, 0, 0, 0]]), pkt, 8), 0, 'mul wraps at 2^32')
  t.equal(runBpf(P([[0x00, 0, 0, 7], [0x02, 0, 0, 3], [0x00, 0, 0, 0], [0x61, 0, 0, 3], [0x87, 0, 0, 0], [0x16, 0, 0, 0]]), pkt, 8), 7, 'st / ldx mem')
  t.equal(runBpf(P([[0x02, 0, 0, 16], [0x06, 0, 0, 1]]), pkt, 8), 0, 'scratch index out of range rejects')
  t.equal(runBpf(P([[0x00, 0, 0, 0x80000000], [0x25, 0, 1, 0x7fffffff], [0x06, 0, 0, 1], [0x06, 0, 0, 0]]), pkt, 8), 1, 'jgt is unsigned')
  t.equal(runBpf(P([[0x00, 0, 0, 6], [0x45, 1, 0, 4], [0x06, 0, 0, 0], [0x06, 0, 0, 9]]), pkt, 8), 9, 'jset')
  t.equal(runBpf(P([[0x05, 0, 0, 1], [0x06, 0, 0, 0], [0x06, 0, 0, 3]]), pkt, 8), 3, 'ja')
  t.equal(runBpf(P([[0x05, 0, 0, 100]]), pkt, 8), 0, 'jump past the end rejects')
  t.equal(runBpf(P([[0xffff, 0, 0, 0], [0x06, 0, 0, 1]]), pkt, 8), 0, 'unknown opcode rejects')
  t.equal(runBpf(P([]), pkt, 8), 0, 'empty program rejects')
  const parsed = parseDddProgram('2\n40 0 0 12\n6 0 0 262144\n')
  t.same(parsed && [...parsed.code], [40, 6], '-ddd output parsed')
  t.equal(parseDddProgram('3\n40 0 0 12\n'), null, 'a truncated listing is refused')
})

t.test('fuzz: random programs over random packets never throw and end', async (t) => {
  const codes = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x14, 0x15, 0x16, 0x1c, 0x1d, 0x20, 0x24, 0x25, 0x28, 0x2c, 0x2d, 0x30,
    0x34, 0x35, 0x3c, 0x3d, 0x40, 0x44, 0x45, 0x48, 0x4c, 0x4d, 0x50, 0x54, 0x5c, 0x60, 0x61, 0x64, 0x6c, 0x74, 0x7c, 0x80, 0x81, 0x84, 0x87,
    0x94, 0x9c, 0xa4, 0xac, 0xb1]
  const insn = fc.record({
    code: fc.oneof(fc.constantFrom(...codes), fc.integer({ min: 0, max: 0xffff })),
    jt: fc.integer({ min: 0, max: 255 }), jf: fc.integer({ min: 0, max: 255 }),
    k: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffffffff })),
  })
  fc.assert(fc.property(fc.array(insn, { maxLength: 64 }), fc.uint8Array({ maxLength: 128 }), fc.integer({ min: 0, max: 70000 }),
    (insns: BpfInsn[], bytes: Uint8Array, wire: number) => {
      const r = runBpf(bpfProgram(insns), bytes, wire)
      return Number.isInteger(r) && r >= 0 && r <= 0xffffffff
    }), { numRuns: 3000 })
  t.pass('3000 random programs ran to an unsigned 32-bit verdict')
})
