/**
 * fast-check fuzzing of the DNS parser and analyzer: random bytes, mutated well-formed
 * messages (with compression pointers) and random TCP chunkings never throw, names stay within
 * Zeek's 512-byte buffer, anomalies are named, every row is written once, and TCP framing is
 * independent of how the stream is cut.
 */
import t from 'tap'
import fc from 'fast-check'
import { DnsAnalyzer, DNS_LOG, parseDnsMessage } from '../agent/app/dns/index.js'
import type { AppConnInfo, AppOutput } from '../agent/app/app-analyzer.js'
import { formatZeekRow } from '../agent/output/zeek-ascii-writer.js'
import { dnsMessage, rdA, rdTxt, RESPONSE, QUERY } from './helpers/dns-builder.js'

const seeds: Buffer[] = [
  dnsMessage({ id: 1, flags: QUERY, questions: [{ name: 'www.example.com', type: 1 }] }),
  dnsMessage({ id: 1, flags: RESPONSE, questions: [{ name: 'www.example.com', type: 1 }], answers: [
    { name: Buffer.from([0xc0, 12]), type: 5, rdata: Buffer.concat([Buffer.from([3, 0x77, 0x65, 0x62]), Buffer.from([0xc0, 16])]) },
    { name: Buffer.from([0xc0, 33]), type: 1, rdata: rdA('192.0.2.1') },
    { name: Buffer.from([0xc0, 12]), type: 16, rdata: rdTxt('hello', 'world') },
    { name: Buffer.from([0xc0, 12]), type: 46, rdata: Buffer.alloc(30, 1) },
    { name: Buffer.from([0xc0, 12]), type: 41, rdata: Buffer.from([0, 10, 0, 2, 1, 2]) },
  ] }),
]

function sink(): { out: AppOutput; rows: string[]; anomalies: string[] } {
  const rows: string[] = []
  const anomalies: string[] = []
  return {
    rows,
    anomalies,
    out: {
      log: (_p, row) => rows.push(formatZeekRow(DNS_LOG.fields, DNS_LOG.fields.map((f) => row[f.name]))),
      confirm: () => {}, violation: () => {}, anomaly: (n) => anomalies.push(n), observe: () => {}, upgrade: () => {}, expect: () => {},
    },
  }
}
const conn = (proto: 'udp' | 'tcp', respP = 53): AppConnInfo => ({ uid: 'C', ts: 0, origH: '10.0.0.1', origP: 1234, respH: '10.0.0.2', respP, proto })

const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat())
  .map(([s, muts, cut]) => {
    const b = Buffer.from(s)
    for (const [i, v] of muts) b[i % b.length] = v
    return b.subarray(0, Math.max(0, b.length - (cut % 8)))
  })
const anyMessage = fc.oneof(fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)), mutated)

t.test('parseDnsMessage never throws; names bounded; anomalies named', async (t) => {
  fc.assert(fc.property(anyMessage, fc.boolean(), (b, netbios) => {
    const anomalies: string[] = []
    const m = parseDnsMessage(b, netbios, (n) => anomalies.push(n))
    if (b.length < 12) return m === undefined && anomalies[0] === 'DNS_truncated_len_lt_hdr_len'
    if (!m) return false
    for (const q of m.questions) if (q.name.length > 512) return false
    for (const a of m.answers) if (a.name.length > 512) return false
    if (!anomalies.every((n) => /^[A-Za-z0-9_]+$/.test(n))) return false
    if (m.violation) return anomalies.includes('DNS_Conn_count_too_large') && m.questions.length === 0
    // A complete parse has every question and answer the header announced.
    return !m.complete || (m.questions.length === m.header.qdcount && m.answers.length === m.header.ancount)
  }), { numRuns: 3000 })
  t.pass('3000 random and mutated messages')
})

t.test('analyzer over UDP: no throw, each row written once, nothing pending after finish', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), anyMessage), { maxLength: 30 }), fc.constantFrom(53, 137, 5353), (msgs, port) => {
    const s = sink()
    const a = new DnsAnalyzer(conn('udp', port), s.out)
    let ts = 1
    for (const [orig, m] of msgs) a.deliver(orig, m, ts += 0.5)
    a.finish(ts + 1)
    const after = s.rows.length
    a.finish(ts + 2)
    // Every message with a tracked header creates at most one row; rows never exceed messages.
    return s.rows.length === after && s.rows.length <= msgs.length && s.rows.every((r) => r.split('\t').length === DNS_LOG.fields.length)
  }), { numRuns: 500 })
  t.pass('500 random conversations')
})

t.test('TCP framing does not depend on where the stream is cut', async (t) => {
  fc.assert(fc.property(fc.array(anyMessage.filter((m) => m.length > 0), { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }), (msgs, cuts) => {
    const stream = Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])))
    const whole = sink()
    const w = new DnsAnalyzer(conn('tcp'), whole.out)
    w.deliver(true, stream, 1)
    w.finish(2)
    const pieces = sink()
    const p = new DnsAnalyzer(conn('tcp'), pieces.out)
    let off = 0
    let i = 0
    while (off < stream.length) {
      const n = cuts[i++ % cuts.length]!
      p.deliver(true, stream.subarray(off, off + n), 1)
      off += n
    }
    p.finish(2)
    return JSON.stringify(whole.rows) === JSON.stringify(pieces.rows) && JSON.stringify(whole.anomalies) === JSON.stringify(pieces.anomalies)
  }), { numRuns: 500 })
  t.pass('500 random chunkings')
})

t.test('TCP garbage on port 53 stays bounded', async (t) => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { maxLength: 40 }), (chunks) => {
    const s = sink()
    const a = new DnsAnalyzer(conn('tcp'), s.out)
    for (const c of chunks) a.deliver(true, Buffer.from(c), 1)
    a.finish(2)
    return s.rows.length <= chunks.reduce((n, c) => n + c.length, 0) / 2 + 1
  }), { numRuns: 300 })
  t.pass('300 random streams')
})
