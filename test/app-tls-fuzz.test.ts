/**
 * fast-check fuzzing of the TLS analyzer and the X.509 parser: random bytes, and valid
 * handshakes / certificates with random byte mutations and random chunking, never throw, keep
 * their carried buffers bounded, and end in a row or a counted violation/anomaly.
 */
import t from 'tap'
import fc from 'fast-check'
import type { AppConnInfo } from '../agent/app/app-analyzer.js'
import { KnownCerts, parseCertificate, TlsSession } from '../agent/app/tls/index.js'
import { parseClientHello, parseServerHello, parseCertificateList } from '../agent/app/tls/tls-hello-parse.js'
import { HandshakeReader, RecordReader } from '../agent/app/tls/tls-record-reader.js'
import { XMPP_ANALYZER } from '../agent/app/xmpp/xmpp-analyzer.js'
import { cert, clientHello, collect, hs, record, serverHello } from './app-tls-fixtures.js'

const conn: AppConnInfo = { uid: 'Cfuzz', ts: 1, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP: 443, proto: 'tcp' }
const der = cert({})
const validClient = Buffer.concat([
  record(22, hs(1, clientHello({ ciphers: [0xc02f, 0x1301], extensions: [0x000a, 0x000b], sni: 'a.example', alpn: ['h2'], sigs: [0x0403], versions: [0x0303] }))),
  record(22, hs(16, Buffer.alloc(66))), record(20, Buffer.from([1])), record(22, Buffer.alloc(40)),
])
const validServer = Buffer.concat([
  record(22, Buffer.concat([hs(2, serverHello({ cipher: 0xc02f, alpn: 'h2' })), hs(11, Buffer.concat([u24(der.length + 3), u24(der.length), der])), hs(12, Buffer.from([3, 0, 23])), hs(14, Buffer.alloc(0))])),
  record(20, Buffer.from([1])), record(22, Buffer.alloc(40)),
])

function u24(n: number): Buffer { const b = Buffer.alloc(3); b.writeUIntBE(n, 0, 3); return b }

const mutate = (base: Buffer) => fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }).map((muts) => {
  const b = Buffer.from(base)
  for (const [i, v] of muts) b[i % b.length] = v
  return b
})

function feed(a: TlsSession, isOrig: boolean, b: Buffer, cuts: number[]): void {
  let p = 0
  for (const c of cuts) {
    const n = 1 + (c % 512)
    a.deliver(isOrig, b.subarray(p, p + n), 1)
    p += n
    if (p >= b.length) return
  }
  a.deliver(isOrig, b.subarray(p), 1)
}

t.test('mutated handshakes in random chunks never throw', async (t) => {
  fc.assert(fc.property(mutate(validClient), mutate(validServer), fc.array(fc.nat(), { maxLength: 40 }), (cl, sv, cuts) => {
    const c = collect()
    const a = new TlsSession(conn, c.out, new KnownCerts(), { maxHandshakeMessage: 4096, maxCertsPerMessage: 4 })
    feed(a, true, cl.subarray(0, cl.length >> 1), cuts)
    feed(a, false, sv, cuts)
    feed(a, true, cl.subarray(cl.length >> 1), cuts)
    a.finish(2)
    const ssl = c.logs.filter((l) => l.path === 'ssl')
    return ssl.length <= 1 && (ssl.length === 1 || c.violations.length > 0 || c.logs.length === 0)
  }), { numRuns: 400 })
  t.pass('no exception in 400 runs')
})

t.test('random bytes never throw', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (bytes, isOrig) => {
    const c = collect()
    const a = new TlsSession(conn, c.out, new KnownCerts())
    a.deliver(isOrig, Buffer.from(bytes), 1)
    a.deliver(!isOrig, Buffer.from(bytes), 1)
    a.finish(1)
    parseClientHello(Buffer.from(bytes))
    parseServerHello(Buffer.from(bytes))
    parseCertificateList(Buffer.from(bytes), 8)
    parseCertificate(Buffer.from(bytes))
    XMPP_ANALYZER.create(conn, c.out).deliver(isOrig, Buffer.from(bytes), 1)
    return true
  }), { numRuns: 500 })
  t.pass('no exception in 500 runs')
})

t.test('mutated certificates parse or return undefined, never throw', async (t) => {
  let parsed = 0
  fc.assert(fc.property(mutate(der), fc.nat({ max: der.length }), (b, cut) => {
    const r = parseCertificate(b.subarray(0, Math.max(cut, b.length - (cut % 16))))
    if (r) { parsed++; if (typeof r.subject !== 'string' || !/^[0-9a-f]{64}$/.test(r.fingerprint)) return false }
    return true
  }), { numRuns: 500 })
  t.ok(parsed > 0, `${parsed}/500 mutated certificates still parsed`)
})

t.test('record and handshake readers keep bounded buffers', async (t) => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { maxLength: 60 }), (chunks) => {
    const r = new RecordReader()
    const h = new HandshakeReader(1000)
    let max = 0
    for (const c of chunks) {
      r.push(Buffer.from(c), true, {
        classifyRecord: () => 'v3',
        onRecord: (_o, _type, body) => h.push(body, true, { onHandshake: () => true }),
      })
      max = Math.max(max, r.buffered, h.buffered)
    }
    return r.buffered <= 5 + 65535 && h.buffered <= 4 + 1000 && max <= 5 + 65535 + 2000
  }), { numRuns: 300 })
  t.pass('bounded')
})
