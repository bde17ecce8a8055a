/**
 * DNS analyzer units: name extraction (compression, pointer loops, limits), rdata rendering as
 * Zeek's answers column, NetBIOS decoding, query/response pairing (retransmissions, reply
 * without query, rejected, multicast, finalization, Zeek's queue limits), TCP framing,
 * confirmation / violation and host observations.
 */
import t from 'tap'
import { DnsAnalyzer, DNS_LOG, decodeNetbiosName, decodeNetbiosNameType, parseDnsMessage, reverseNameToAddr } from '../agent/app/dns/index.js'
import { extractName } from '../agent/app/dns/dns-name.js'
import { cursorAt } from '../agent/app/dns/dns-cursor.js'
import type { AppConnInfo, AppOutput, HostObservation } from '../agent/app/app-analyzer.js'
import { formatZeekRow } from '../agent/output/zeek-ascii-writer.js'
import { dnsMessage, encName, netbiosEncode, QUERY, rdA, rdMx, rdSoa, rdSrv, rdTxt, RESPONSE } from './helpers/dns-builder.js'

const conn = (over: Partial<AppConnInfo> = {}): AppConnInfo => ({
  uid: 'Ctest', ts: 100, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.53', respP: 53, proto: 'udp', ...over,
})

function harness(c = conn()) {
  const rows: Record<string, string>[] = []
  const out = { confirms: 0, violations: [] as string[], anomalies: [] as string[], obs: [] as HostObservation[] }
  const o: AppOutput = {
    log: (path, row) => {
      t.equal(path, 'dns')
      const cols = formatZeekRow(DNS_LOG.fields, DNS_LOG.fields.map((f) => row[f.name])).split('\t')
      rows.push(Object.fromEntries(DNS_LOG.fields.map((f, i) => [f.name, cols[i]!])))
    },
    confirm: (s) => { t.equal(s, 'dns'); out.confirms++ },
    violation: (r) => out.violations.push(r),
    anomaly: (n) => out.anomalies.push(n),
    observe: (ob) => out.obs.push(ob),
    upgrade: () => {},
    expect: () => {},
  }
  return { a: new DnsAnalyzer(c, o), rows, out }
}

const weirds = (): { list: string[]; fn: (n: string) => void } => {
  const list: string[] = []
  return { list, fn: (n) => list.push(n) }
}

t.test('names: compression, case, pointer rules', async (t) => {
  // "www" + pointer to "Example.COM" at offset 12.
  const msg = Buffer.concat([Buffer.alloc(12), encName('Example.COM'), Buffer.from([3, 0x57, 0x57, 0x57, 0xc0, 12])])
  const w = weirds()
  const c = cursorAt(msg, 12 + 13, msg.length - 25)
  t.equal(Buffer.from(extractName(c, false, false, w.fn)).toString(), 'WWW.example.com', 'pointer target is lower-cased, outer label not')
  t.equal(c.pos, msg.length, 'cursor after the pointer')
  // A pointer to itself / forward is refused (loop-safe), with Zeek's weird.
  const self = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 12, 0])])
  const w2 = weirds()
  t.equal(extractName(cursorAt(self, 12, 3), true, false, w2.fn).length, 0)
  t.same(w2.list, ['DNS_label_forward_compress_offset'])
  // A long chain of backward pointers terminates without recursion.
  const chain = Buffer.alloc(12 + 2 * 20000)
  chain[12] = 1; chain[13] = 0x61; chain[14] = 0
  for (let i = 1; i < 20000; i++) { const p = 12 + 2 * i + 1; chain[p] = 0xc0 | (((p - 2) >> 8) & 0x3f); chain[p + 1] = (p - 2) & 0xff }
  const end = 12 + 2 * 19999 + 1
  t.ok(extractName(cursorAt(chain, end, chain.length - end), true, false, () => {}).length <= 512)
  // Labels > 63 are refused except on NetBIOS; names are capped at 512 bytes.
  const long = Buffer.concat([Buffer.alloc(12), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0])])
  const w3 = weirds()
  t.equal(extractName(cursorAt(long, 12, long.length - 12), true, false, w3.fn).length, 0)
  t.same(w3.list, ['DNS_label_too_long'])
  t.equal(extractName(cursorAt(long, 12, long.length - 12), true, true, () => {}).length, 64)
  const huge = Buffer.concat([Buffer.alloc(12), ...Array.from({ length: 12 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x62)])), Buffer.from([0])])
  const w4 = weirds()
  const n = extractName(cursorAt(huge, 12, huge.length - 12), true, false, w4.fn)
  t.ok(n.length < 512)
  t.ok(w4.list.includes('DNS_label_len_gt_name_len') && w4.list.includes('DNS_NAME_too_long'))
})

t.test('answers rendered as Zeek: A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, unknown', async (t) => {
  const { a, rows, out } = harness()
  a.deliver(true, dnsMessage({ id: 7, flags: QUERY, questions: [{ name: 'WWW.Example.com', type: 255 }] }), 100)
  const aaaa = Buffer.alloc(16); aaaa[0] = 0x20; aaaa[1] = 0x01; aaaa[2] = 0x0d; aaaa[3] = 0xb8; aaaa[15] = 1
  a.deliver(false, dnsMessage({
    id: 7, flags: RESPONSE | 0x0400, questions: [{ name: 'www.example.com', type: 255 }], answers: [
      { name: 'www.example.com', type: 5, ttl: 30, rdata: encName('Web.Example.com') },
      { name: 'web.example.com', type: 1, ttl: 60, rdata: rdA('192.0.2.7') },
      { name: 'web.example.com', type: 28, rdata: aaaa },
      { name: 'example.com', type: 15, rdata: rdMx(10, 'mx.example.com') },
      { name: 'example.com', type: 2, rdata: encName('ns1.example.com') },
      { name: '7.2.0.192.in-addr.arpa', type: 12, rdata: encName('web.example.com') },
      { name: 'example.com', type: 6, rdata: rdSoa('ns1.example.com', 'hostmaster.example.com') },
      { name: '_x._tcp.example.com', type: 33, rdata: rdSrv(0, 5, 443, 'web.example.com') },
      { name: 'example.com', type: 16, rdata: rdTxt('v=spf1 -all', 'a,b') },
      { name: 'example.com', type: 13, rdata: rdTxt('cpu', 'os') },
      { name: 'example.com', type: 4711, ttl: 5, rdata: Buffer.from([1, 2]) },
    ],
  }), 100.25)
  t.equal(rows.length, 1)
  const r = rows[0]!
  t.equal(r.query, 'www.example.com')
  t.equal(r.qtype_name, '*')
  t.equal(r.rtt, '0.250000')
  t.equal(r.answers, 'web.example.com,192.0.2.7,2001:db8::1,mx.example.com,ns1.example.com,web.example.com,ns1.example.com,web.example.com,TXT 11 v=spf1 -all TXT 3 a\\x2cb,<unknown type=4711>', 'HINFO renders nothing')
  t.equal(r.TTLs, '30.000000,60.000000,60.000000,60.000000,60.000000,60.000000,60.000000,60.000000,60.000000,5.000000')
  t.same([r.AA, r.RA, r.RD, r.rcode_name, r.opcode_name], ['T', 'T', 'T', 'NOERROR', 'query'])
  t.equal(out.confirms, 1, 'confirmed once')
  t.ok(out.anomalies.includes('DNS_RR_unknown_type'))
  const names = out.obs.map((o) => `${o.nameSource}:${o.ip}=${o.name}`)
  t.ok(names.includes('dns_a:192.0.2.7=web.example.com'))
  t.ok(names.includes('dns_a:2001:db8::1=web.example.com'))
  t.ok(names.includes('dns_ptr:192.0.2.7=web.example.com'))
})

t.test('pairing: retransmission, reply without query, rejected, finalization', async (t) => {
  const { a, rows } = harness()
  const q = dnsMessage({ id: 9, flags: QUERY, questions: [{ name: 'a.example', type: 1 }] })
  a.deliver(true, q, 10)
  a.deliver(true, q, 15) // retransmitted: queued behind the first
  a.deliver(false, dnsMessage({ id: 9, flags: RESPONSE, questions: [{ name: 'a.example', type: 1 }], answers: [{ name: 'a.example', type: 1, rdata: rdA('192.0.2.1') }] }), 15.5)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.rtt, '5.500000', 'the response pairs with the oldest query')
  a.deliver(false, dnsMessage({ id: 77, flags: 0x8183, questions: [] }), 16) // reply only, NXDOMAIN, no question
  a.deliver(false, dnsMessage({ id: 78, flags: 0x8185, questions: [{ name: 'b.example', type: 1 }] }), 16) // REFUSED, no records
  t.equal(rows.length, 1)
  a.finish(20)
  t.equal(rows.length, 4)
  const byId = Object.fromEntries(rows.map((r) => [r.trans_id, r]))
  t.same([byId['9']!.rtt, byId['9']!.query], ['-', 'a.example'], 'retransmission logged unanswered at the end')
  t.same([byId['77']!.rejected, byId['77']!.rcode_name, byId['77']!.query], ['T', 'NXDOMAIN', '-'])
  t.same([byId['78']!.rejected, byId['78']!.rcode_name], ['T', 'REFUSED'])
  a.finish(21)
  t.equal(rows.length, 4, 'finish is idempotent')
})

t.test('pairing limits: more than 50 pending transaction IDs are flushed', async (t) => {
  const { a, rows } = harness()
  for (let id = 1; id <= 53; id++) a.deliver(true, dnsMessage({ id, flags: QUERY, questions: [{ name: `q${id}.example`, type: 1 }] }), id)
  t.ok(rows.length > 0, 'queue overflow writes the unmatched queries')
  a.finish(100)
  t.equal(rows.length, 53, 'every query logged exactly once')
  t.equal(new Set(rows.map((r) => r.trans_id)).size, 53)
})

t.test('multicast: every message is its own row; mDNS names observed', async (t) => {
  const { a, rows, out } = harness(conn({ respH: '224.0.0.251', respP: 5353, origP: 5353 }))
  const q = dnsMessage({ id: 0, flags: 0, questions: [{ name: 'printer.local', type: 1 }] })
  a.deliver(true, q, 1)
  a.deliver(true, q, 2)
  t.equal(rows.length, 2)
  a.deliver(true, dnsMessage({ id: 0, flags: 0x8400, answers: [{ name: 'printer.local', type: 1, ttl: 120, rdata: rdA('10.0.0.9') }] }), 3)
  t.equal(rows.length, 3)
  t.same([rows[2]!.query, rows[2]!.qtype, rows[2]!.rtt, rows[2]!.answers, rows[2]!.AA], ['printer.local', '-', '-', '10.0.0.9', 'T'])
  t.ok(out.obs.some((o) => o.nameSource === 'mdns' && o.ip === '10.0.0.9' && o.name === 'printer.local'))
  a.finish(4)
  t.equal(rows.length, 3, 'nothing pending for multicast')
})

t.test('NetBIOS name service: decoded query, Z, opcode names, NBSTAT, registration names', async (t) => {
  t.equal(Buffer.from(decodeNetbiosName(Buffer.from(netbiosEncode('WORKGROUP', 0x1d)))).toString(), 'WORKGROUP')
  t.equal(Buffer.from(decodeNetbiosName(Buffer.from('FEEIEFCAEOEFFEECEJEPFDCAEOEBENEF'))).toString(), 'THE NETBIOS NAM')
  t.equal(decodeNetbiosName(Buffer.from('abc')).length, 0)
  t.equal(decodeNetbiosName(Buffer.from('zz'.repeat(16))).length, 0)
  t.equal(decodeNetbiosNameType(Buffer.from(netbiosEncode('X', 0x20))), 0x20)
  const { a, rows, out } = harness(conn({ origP: 137, respP: 137, respH: '10.0.0.255' }))
  const enc = netbiosEncode('HOST1', 0x20).toLowerCase()
  a.deliver(true, dnsMessage({ id: 5, flags: 0x0110, questions: [{ name: enc, type: 32 }] }), 1)
  a.deliver(true, dnsMessage({ id: 6, flags: 0x0110, questions: [{ name: enc, type: 33 }] }), 1.5)
  a.deliver(true, dnsMessage({ id: 8, flags: 0x2910, questions: [{ name: netbiosEncode('MYPC'), type: 32 }], ar: 0 }), 2)
  a.finish(3)
  const byId = Object.fromEntries(rows.map((r) => [r.trans_id, r]))
  t.same([byId['5']!.query, byId['5']!.qtype_name, byId['5']!.Z, byId['5']!.opcode_name], ['HOST1', 'NIMLOC', '1', 'netbios-query'])
  t.equal(byId['6']!.qtype_name, 'NBSTAT')
  t.same([byId['8']!.query, byId['8']!.opcode, byId['8']!.opcode_name], ['MYPC', '5', 'netbios-registration'])
  t.ok(out.obs.some((o) => o.nameSource === 'netbios' && o.name === 'MYPC' && o.ip === '10.0.0.1'))
})

t.test('untracked opcodes (status) create no rows; notify is tracked', async (t) => {
  const { a, rows } = harness()
  a.deliver(true, dnsMessage({ id: 1, flags: 0x1000, questions: [{ name: 'x.example', type: 1 }] }), 1)
  a.deliver(true, dnsMessage({ id: 2, flags: 0x2000, questions: [{ name: 'zone.example', type: 6 }] }), 1)
  a.finish(2)
  t.equal(rows.length, 1)
  t.same([rows[0]!.trans_id, rows[0]!.opcode_name], ['2', 'notify'])
})

t.test('TCP: length framing across arbitrary chunks, partial message at close', async (t) => {
  const { a, rows, out } = harness(conn({ proto: 'tcp' }))
  const q = dnsMessage({ id: 3, flags: QUERY, questions: [{ name: 'tcp.example', type: 16 }] })
  const r = dnsMessage({ id: 3, flags: RESPONSE, questions: [{ name: 'tcp.example', type: 16 }], answers: [{ name: 'tcp.example', type: 16, rdata: rdTxt('x'.repeat(200)) }] })
  const framed = (m: Buffer): Buffer => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])
  const qs = framed(q)
  for (let i = 0; i < qs.length; i++) a.deliver(true, qs.subarray(i, i + 1), 1)
  const rs = framed(r)
  a.deliver(false, rs.subarray(0, 7), 2)
  a.deliver(false, rs.subarray(7), 2)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.answers, `TXT 200 ${'x'.repeat(200)}`)
  t.equal(rows[0]!.proto, 'tcp')
  a.deliver(true, framed(q).subarray(0, 20), 3) // cut short: parsed at close as Zeek's Flush does
  a.finish(4)
  t.equal(rows.length, 2)
  t.equal(out.confirms, 1)
})

t.test('violation: more than 25 questions; short messages are anomalies', async (t) => {
  const { a, rows, out } = harness()
  a.deliver(true, Buffer.from([1, 2, 3]), 1)
  t.same(out.anomalies, ['DNS_truncated_len_lt_hdr_len'])
  a.deliver(true, dnsMessage({ id: 4, flags: QUERY, questions: [{ name: 'ok.example', type: 1 }] }), 1)
  const bad = Buffer.alloc(12); bad.writeUInt16BE(0x0100, 2); bad.writeUInt16BE(300, 4)
  a.deliver(true, bad, 2)
  t.same(out.violations, ['DNS_Conn_count_too_large'])
  t.equal(rows.length, 2, 'pending rows are written when the analyzer is detached')
  a.deliver(true, dnsMessage({ id: 5, flags: QUERY, questions: [{ name: 'after.example', type: 1 }] }), 3)
  a.finish(4)
  t.equal(rows.length, 2, 'nothing after the violation')
})

t.test('parser: stops at the first unparsable answer, keeps what came before', async (t) => {
  const w = weirds()
  const m = dnsMessage({ id: 1, flags: RESPONSE, answers: [
    { name: 'a.example', type: 1, rdata: rdA('192.0.2.1') },
    { name: 'a.example', type: 1, rdata: Buffer.from([1, 2, 3]) },
    { name: 'a.example', type: 1, rdata: rdA('192.0.2.3') },
  ] })
  const msg = parseDnsMessage(m, false, w.fn)!
  t.equal(msg.complete, false)
  t.same(msg.answers.map((x) => x.addr), ['192.0.2.1', undefined])
  t.same(w.list, ['DNS_RR_bad_length'])
  const trunc = parseDnsMessage(m.subarray(0, m.length - 2), false, () => {})!
  t.equal(trunc.complete, false)
})

t.test('reverse names', async (t) => {
  t.equal(reverseNameToAddr('7.2.0.192.in-addr.arpa'), '192.0.2.7')
  t.equal(reverseNameToAddr('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'), '2001:db8::1')
  t.equal(reverseNameToAddr('300.2.0.192.in-addr.arpa'), undefined)
  t.equal(reverseNameToAddr('example.com'), undefined)
})
