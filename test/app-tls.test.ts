/**
 * TLS analyzer unit tests on traffic built in code: record framing across arbitrary chunk
 * splits, several handshake messages per record, ClientHello/ServerHello extensions, JA3/JA4
 * (FoxIO's documented example), HelloRetryRequest, alerts, resumption, certificates (a DER
 * certificate built here: DN escaping, SANs, basic constraints, EC key), x509 de-duplication,
 * bounds, XMPP STARTTLS.
 */
import t from 'tap'
import type { AppConnInfo } from '../agent/app/app-analyzer.js'
import { KnownCerts, ja4, parseCertificate, TlsSession } from '../agent/app/tls/index.js'
import { parseClientHello, parseServerHello } from '../agent/app/tls/tls-hello-parse.js'
import { ja3s, ja4s, ja4sMemo } from '../agent/app/tls/tls-fingerprints.js'
import { formatSerial } from '../agent/app/tls/x509-parse.js'
import { hostnameMatches } from '../agent/app/tls/x509-hostname.js'
import { XMPP_ANALYZER } from '../agent/app/xmpp/xmpp-analyzer.js'
import { cert, clientHello, collect, record, serverHello, hs } from './app-tls-fixtures.js'

const conn: AppConnInfo = { uid: 'Ctest', ts: 1, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP: 443, proto: 'tcp' }

t.test('JA4 of FoxIO\'s documented example', async (t) => {
  const ciphers = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
  const exts = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015]
  const sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
  const body = clientHello({ ciphers: [0x0a0a, ...ciphers], extensions: exts, sni: 'example.com', alpn: ['h2', 'http/1.1'], sigs, versions: [0x3a3a, 0x0304, 0x0303], grease: 0x2a2a })
  const ch = parseClientHello(body)!
  t.ok(ch)
  t.equal(ja4(ch), 't13d1516h2_8daaf6152771_e5627efa2ab1')
  t.same(ch.serverNames, ['example.com'])
  t.same(ch.alpn, ['h2', 'http/1.1'])
})

t.test('a TLS 1.2 handshake in arbitrary chunks: ssl.log and x509.log rows', async (t) => {
  for (const split of [1, 7, 100, 100000]) {
    const c = collect()
    const a = new TlsSession(conn, c.out, new KnownCerts())
    const orig = Buffer.concat([record(22, hs(1, clientHello({ ciphers: [0xc02f, 0x0a0a], extensions: [], sni: 'www.example.org', alpn: [], sigs: [], versions: [] })))])
    const der = cert({})
    const serverFlight = record(22, Buffer.concat([
      hs(2, serverHello({ cipher: 0xc02f, alpn: 'h2' })),
      hs(11, Buffer.concat([u24(der.length + 3), u24(der.length), der])),
      hs(12, Buffer.from([3, 0, 23, 1, 4])),
      hs(14, Buffer.alloc(0)),
    ]))
    const feed = (isOrig: boolean, b: Buffer, ts: number): void => { for (let i = 0; i < b.length; i += split) a.deliver(isOrig, b.subarray(i, i + split), ts) }
    feed(true, orig, 10)
    feed(false, serverFlight, 11)
    feed(true, Buffer.concat([record(22, hs(16, Buffer.alloc(66))), record(20, Buffer.from([1])), record(22, Buffer.alloc(40))]), 12)
    feed(false, Buffer.concat([record(20, Buffer.from([1])), record(22, Buffer.alloc(40))]), 13)
    t.equal(c.logs.filter((l) => l.path === 'ssl').length, 1, `split ${split}: one ssl row at establishment`)
    const ssl = c.logs.find((l) => l.path === 'ssl')!.row
    t.match(ssl, {
      ts: 10, version: 'TLSv12', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', curve: 'secp256r1', server_name: 'www.example.org',
      next_protocol: 'h2', established: true, resumed: false, ssl_history: 'CsxknGIi', sni_matches_cert: true,
    })
    t.same(ssl['client_cert_chain_fps'], [])
    t.equal((ssl['cert_chain_fps'] as string[]).length, 1)
    const x = c.logs.filter((l) => l.path === 'x509')
    t.equal(x.length, 1)
    t.match(x[0]!.row, {
      ts: 11, 'certificate.serial': '97E647098EEAC9B4', 'certificate.version': 3,
      'certificate.subject': 'OU=R&D+CN=Caf\u00e9\\, Inc.,O=Example,C=US', 'certificate.key_type': 'ecdsa', 'certificate.curve': 'prime256v1',
      'certificate.key_length': 256, 'certificate.key_alg': 'id-ecPublicKey', 'certificate.sig_alg': 'ecdsa-with-SHA256',
      'san.dns': ['*.example.org'], 'san.ip': ['192.0.2.1', '2001:db8::1'], 'basic_constraints.ca': true, 'basic_constraints.path_len': 2,
      host_cert: true, client_cert: false, 'certificate.not_valid_before': 1423764447,
    })
    t.same(c.confirms, ['ssl'])
    t.same(c.violations, [])
  }
})

t.test('x509.log de-duplicates a certificate per day of network time', async (t) => {
  const known = new KnownCerts()
  t.ok(known.shouldLog('fp', true, false, 100))
  t.notOk(known.shouldLog('fp', true, false, 200))
  t.ok(known.shouldLog('fp', false, false, 200), 'chain position is part of the key')
  t.ok(known.shouldLog('fp', true, false, 100 + 86400))
  const small = new KnownCerts(86400, 2)
  small.shouldLog('a', true, false, 1); small.shouldLog('b', true, false, 1); small.shouldLog('c', true, false, 1)
  t.equal(small.evicted, 1, 'bounded, eviction counted')
})

t.test('HelloRetryRequest, alerts and TLS 1.3 establishment', async (t) => {
  const c = collect()
  const a = new TlsSession(conn, c.out, new KnownCerts())
  a.deliver(true, record(22, hs(1, clientHello({ ciphers: [0x1301], extensions: [], sni: undefined, alpn: [], sigs: [0x0403], versions: [0x0304], keyShare: [29] }))), 1)
  a.deliver(false, record(22, hs(2, serverHello({ cipher: 0x1301, hrr: true, version: 0x0304, keyShare: 23 }))), 2)
  a.deliver(true, record(22, hs(1, clientHello({ ciphers: [0x1301], extensions: [], sni: undefined, alpn: [], sigs: [0x0403], versions: [0x0304], keyShare: [23] }))), 3)
  a.deliver(false, Buffer.concat([record(22, hs(2, serverHello({ cipher: 0x1301, version: 0x0304, keyShare: 23 }))), record(23, Buffer.alloc(50))]), 4)
  t.equal(c.logs.length, 0, 'not yet established')
  a.deliver(true, record(23, Buffer.alloc(30)), 5)
  const row = c.logs[0]!.row
  t.match(row, { version: 'TLSv13', cipher: 'TLS_AES_128_GCM_SHA256', curve: 'secp256r1', ssl_history: 'CjCs', established: true })
  t.equal(row['cert_chain_fps'], undefined, 'no certificates seen: unset, not empty')

  const c2 = collect()
  const b = new TlsSession(conn, c2.out, new KnownCerts())
  b.deliver(true, record(22, hs(1, clientHello({ ciphers: [0x002f], extensions: [], sni: 'x', alpn: [], sigs: [], versions: [] }))), 1)
  b.deliver(false, record(21, Buffer.from([2, 40])), 2)
  b.finish(3)
  t.match(c2.logs[0]!.row, { last_alert: 'handshake_failure', ssl_history: 'Cl', established: false })
})

t.test('session resumption by session id', async (t) => {
  const c = collect()
  const a = new TlsSession(conn, c.out, new KnownCerts())
  const sid = Buffer.alloc(32, 7)
  a.deliver(true, record(22, hs(1, clientHello({ ciphers: [0x002f], extensions: [], sni: undefined, alpn: [], sigs: [], versions: [], sessionId: sid }))), 1)
  a.deliver(false, Buffer.concat([record(22, hs(2, serverHello({ cipher: 0x002f, sessionId: sid }))), record(20, Buffer.from([1])), record(22, Buffer.alloc(40))]), 2)
  a.deliver(true, Buffer.concat([record(20, Buffer.from([1])), record(22, Buffer.alloc(40))]), 3)
  t.match(c.logs[0]!.row, { resumed: true, ssl_history: 'CsiI', established: true })
})

t.test('not TLS: violation, and the row of what was seen', async (t) => {
  const c = collect()
  const a = new TlsSession(conn, c.out, new KnownCerts())
  a.deliver(true, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 1)
  t.equal(c.violations.length, 1)
  t.equal(c.logs.length, 0, 'no SSL event, no row')
  t.same(c.confirms, [])
})

t.test('oversized handshake messages are skipped and counted, buffers stay bounded', async (t) => {
  const c = collect()
  const a = new TlsSession(conn, c.out, new KnownCerts(), { maxHandshakeMessage: 1000, maxCertsPerMessage: 16 })
  a.deliver(true, record(22, hs(1, clientHello({ ciphers: [0x002f], extensions: [], sni: undefined, alpn: [], sigs: [], versions: [] }))), 1)
  const big = hs(11, Buffer.alloc(5000))
  for (let i = 0; i < big.length; i += 1000) a.deliver(false, record(22, big.subarray(i, i + 1000)), 2)
  a.deliver(false, record(22, hs(14, Buffer.alloc(0))), 3)
  a.finish(4)
  t.match(c.logs[0]!.row, { ssl_history: 'Cn' }, 'the oversized Certificate is dropped, parsing resumes after it')
})

t.test('serial numbers, host names', async (t) => {
  t.equal(formatSerial(Buffer.from([0x00, 0x97, 0xe6])), '97E6')
  t.equal(formatSerial(Buffer.from([0x00])), '00')
  t.equal(formatSerial(Buffer.from([0xff])), '-01')
  t.ok(hostnameMatches('ssl.gstatic.com', '*.gstatic.com'))
  t.notOk(hostnameMatches('a.b.gstatic.com', '*.gstatic.com'))
  t.ok(hostnameMatches('WWW.Example.org', 'www.example.ORG'))
  t.equal(parseCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])), undefined)
})

t.test('parseCertificate: certificates of the same length and ending are told apart; views are safe to reuse', async (t) => {
  // Same length, same signature bytes at the end: only the serial differs (the cache key is
  // the length and the last bytes, so only the full comparison can tell these apart).
  const a = cert({ serial: Buffer.from('0a0b0c0d', 'hex') })
  const b = cert({ serial: Buffer.from('01020304', 'hex') })
  t.equal(a.length, b.length)
  t.same(a.subarray(a.length - 40), b.subarray(b.length - 40))
  t.equal(parseCertificate(a)?.serial, '0A0B0C0D')
  t.equal(parseCertificate(b)?.serial, '01020304')
  t.equal(parseCertificate(a)?.serial, '0A0B0C0D')
  // A view into a buffer that is then overwritten (a record buffer reused): the cache keeps
  // a copy, not the view, so the new bytes are not taken for the certificate cached first.
  const scratch = cert({ serial: Buffer.from('05060708', 'hex') })
  t.equal(parseCertificate(scratch.subarray(0))?.serial, '05060708')
  b.copy(scratch)
  t.equal(parseCertificate(scratch)?.serial, '01020304')
})

t.test('ja4sMemo gives ja4s: hellos with the same JA3S string but another ALPN value or version are told apart', async (t) => {
  // Same extension list (so the same JA3S string) within each pair; ALPN value or supported version differs.
  const hellos = [
    serverHello({ cipher: 0xc02f, alpn: 'h2' }),
    serverHello({ cipher: 0xc02f, alpn: 'ab' }),
    serverHello({ cipher: 0xc02f, alpn: '' }),
    serverHello({ cipher: 0xc02f }),
    serverHello({ cipher: 0x1301, version: 0x0304 }),
    serverHello({ cipher: 0x1301, version: 0x0303 }),
    serverHello({ cipher: 0x1301, version: 0x0304, alpn: 'http/1.1' }),
  ]
  for (let round = 0; round < 2; round++) {
    for (const b of hellos) {
      const sh = parseServerHello(b)!
      t.equal(ja4sMemo(sh, ja3s(sh).string), ja4s(sh), `${ja4s(sh)}${round === 1 ? ' (remembered)' : ''}`)
    }
  }
})

t.test('XMPP STARTTLS hands over to TLS only after <starttls> then <proceed>', async (t) => {
  const c = collect()
  const x = XMPP_ANALYZER.create(conn, c.out)
  x.deliver(true, Buffer.from("<?xml version='1.0'?><stream:stream to='a' xmlns='jabber:client'>"), 1)
  x.deliver(false, Buffer.from("<stream:stream><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"), 1)
  x.deliver(true, Buffer.from("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'"), 1)
  x.deliver(true, Buffer.from('/>'), 1)
  x.deliver(false, Buffer.from("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), 1)
  t.same(c.confirms, ['xmpp'])
  t.same(c.upgrades, ['ssl'])
  const c2 = collect()
  const y = XMPP_ANALYZER.create(conn, c2.out)
  y.deliver(false, Buffer.from("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), 1)
  t.same(c2.upgrades, [])
  t.same(c2.anomalies, ['XMPP: proceed without starttls'])
})

function u24(n: number): Buffer { const b = Buffer.alloc(3); b.writeUIntBE(n, 0, 3); return b }
