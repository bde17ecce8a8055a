/**
 * HTTP analyzer unit tests on messages built in code: framing (Content-Length, chunked,
 * until close, line mode, no-body replies), pipelining, 1xx, folding, credentials, gaps,
 * CONNECT, bounds, decompression, file names and MIME sniffing, detection, observations.
 */
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { detectHttp, HTTP_ANALYZER } from '../agent/app/http/index.js'
import { sniffMime } from '../agent/app/http/mime-sniff.js'
import { parseRequestLine, parseReplyLine, unescapeUri } from '../agent/app/http/http-start-line.js'
import { hostName } from '../agent/app/http/http-analyzer.js'
import { feed, harness, makeConn } from './helpers/http-harness.js'

const HTML = '<!DOCTYPE html><html><body>hello</body></html>'
const str = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v))

t.test('GET with Content-Length: row, confirmation, MIME, observations', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'GET /a%20b?x=1 HTTP/1.1\r\nHost: www.Example.com:8080\r\nUser-Agent: curl/8.0\r\nReferer: http://r/\r\nOrigin: http://o\r\n\r\n')
  t.same(rec.confirmed, ['http'], 'confirmed on the request line, as HTTP_Request()')
  feed(a, false, `HTTP/1.1 200 OK\r\nServer: nginx/1.2\r\nContent-Length: ${HTML.length}\r\n\r\n${HTML}`)
  t.equal(rec.rows.length, 1, 'logged when the reply body ends')
  const r = rec.rows[0]!
  t.match(r, { uid: 'CTest1', 'id.orig_h': '10.0.0.1', 'id.resp_p': 80, trans_depth: 1, method: 'GET', host: 'www.Example.com:8080',
    uri: '/a b?x=1', referrer: 'http://r/', origin: 'http://o', version: '1.1', user_agent: 'curl/8.0', request_body_len: 0,
    response_body_len: HTML.length, status_code: 200, status_msg: 'OK', resp_mime_types: ['text/html'] })
  t.equal((r.resp_fuids as string[]).length, 1)
  t.equal(r.password, undefined)
  t.same(rec.observations.map((o) => [o.ip, o.name ?? o.software, o.nameSource ?? o.softwareRole]).sort(), [
    ['10.0.0.1', 'curl/8.0', 'client'], ['10.0.0.2', 'nginx/1.2', 'server'], ['10.0.0.2', 'www.example.com', 'http_host']].sort())
  a.finish(1002)
  t.equal(rec.rows.length, 1, 'nothing pending at the end')
  t.same(rec.violations, [])
})

t.test('byte-by-byte delivery gives the same rows as whole messages', async (t) => {
  const req = 'GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc'
  const rep = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'
  const run = (size: number): unknown[] => {
    const { a, rec } = harness()
    feed(a, true, req, size)
    feed(a, false, rep, size)
    a.finish(2000)
    return rec.rows.map((r) => ({ ...r, resp_fuids: (r.resp_fuids as string[] | undefined)?.length, orig_fuids: (r.orig_fuids as string[] | undefined)?.length }))
  }
  const whole = run(1 << 20)
  t.same(run(1), whole)
  t.same(run(7), whole)
  t.equal(whole.length, 2)
  t.match(whole[0], { trans_depth: 1, response_body_len: 8, status_code: 200 })
  t.match(whole[1], { trans_depth: 2, method: 'POST', request_body_len: 3, response_body_len: 2, status_code: 201, orig_fuids: 1 })
})

t.test('pipelined requests are matched to replies in order', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n')
  feed(a, false, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
  t.same(rec.rows.map((r) => [r.trans_depth, r.uri, r.status_code]), [[1, '/1', 200], [2, '/2', 404]])
  a.finish(3000)
  t.same(rec.rows.map((r) => [r.trans_depth, r.uri, r.status_code]), [[1, '/1', 200], [2, '/2', 404], [3, '/3', undefined]], 'unanswered request flushed at the end')
})

t.test('replies without body: HEAD, 1xx, 204, 304', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'HEAD / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nPUT /c HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi')
  feed(a, false, 'HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n' +
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n')
  t.same(rec.rows.map((r) => [r.method, r.status_code, r.info_code, r.info_msg, r.response_body_len, r.request_body_len]), [
    ['HEAD', 200, undefined, undefined, 0, 0], ['GET', 304, undefined, undefined, 0, 0], ['PUT', 204, 100, 'Continue', 0, 2]])
})

t.test('chunked only for HTTP/1.1; HTTP/1.0 without length is read line by line until the end', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'GET / HTTP/1.0\r\n\r\n')
  feed(a, false, 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')
  a.finish(5)
  // Zeek counts each line + 2: "5","hello","0","" = 1+5+1+0 + 4*2.
  t.equal(rec.rows[0]!.response_body_len, 15)
  t.equal(rec.rows[0]!.version, '1.0')
})

t.test('Connection: close without length: body counted byte by byte until the end', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'GET / HTTP/1.1\r\n\r\n')
  feed(a, false, 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nline1\nline2')
  t.equal(rec.rows.length, 0)
  a.finish(5)
  t.equal(rec.rows[0]!.response_body_len, 11)
  t.same(rec.rows[0]!.resp_mime_types, ['text/plain'])
})

t.test('folded headers, credentials, proxies, file names', async (t) => {
  const { a, rec } = harness()
  const auth = Buffer.from('alice:s3cret').toString('base64')
  feed(a, true, `POST /up HTTP/1.1\r\nUser-Agent: Agent/1\r\n  (folded)\r\nAuthorization: Basic ${auth}\r\nX-Forwarded-For: 1.2.3.4\r\nVia: p\r\n` +
    'Content-Disposition: attachment; filename="a%20b.png"\r\nContent-Length: 8\r\n\r\n\x89PNG\r\n\x1a\n')
  feed(a, false, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
  const r = rec.rows[0]!
  t.equal(r.user_agent, 'Agent/1  (folded)', 'continuation appended as it is')
  t.equal(r.username, 'alice')
  t.equal(r.password, undefined, 'password only with capturePassword (Zeek default F)')
  t.same(r.proxied, ['X-FORWARDED-FOR -> 1.2.3.4', 'VIA -> p'])
  t.same(r.orig_filenames, ['a b.png'])
  t.same(r.orig_mime_types, ['image/png'])
  const h2 = harness({ capturePassword: true })
  feed(h2.a, true, `GET / HTTP/1.1\r\nAuthorization: Basic ${auth}\r\n\r\n`)
  h2.a.finish(1)
  t.equal(h2.rec.rows[0]!.password, 's3cret')
  const h3 = harness()
  feed(h3.a, true, `GET / HTTP/1.1\r\nAuthorization: Basic ${Buffer.from('nocolon').toString('base64')}\r\n\r\n`)
  h3.a.finish(1)
  t.match(str(h3.rec.rows[0]!.username), /^<problem-decoding> \(Basic /)
})

t.test('gzip body: length and MIME type of the decompressed content', async (t) => {
  const { a, rec } = harness()
  const body = gzipSync(Buffer.from(HTML.repeat(10)))
  feed(a, true, 'GET / HTTP/1.1\r\n\r\n')
  feed(a, false, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`), body]))
  t.equal(rec.rows[0]!.response_body_len, HTML.length * 10)
  t.same(rec.rows[0]!.resp_mime_types, ['text/html'])
})

t.test('content gaps: skipped inside a body of known length, fatal elsewhere', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n')
  feed(a, false, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789')
  a.gap(false, 80)
  feed(a, false, '0123456789HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx')
  t.same(rec.rows.map((r) => [r.uri, r.response_body_len]), [['/1', 100], ['/2', 1]])

  const h = harness()
  feed(h.a, true, 'GET /1 HTTP/1.1\r\n\r\n')
  feed(h.a, false, 'HTTP/1.1 200 OK\r\nCont')
  h.a.gap(false, 10)
  feed(h.a, false, 'ent-Length: 0\r\n\r\n')
  h.a.finish(9)
  t.same(h.rec.rows.map((r) => [r.uri, r.status_code, r.response_body_len]), [['/1', 200, 0]], 'reply interrupted, logged at the end')
  t.ok(h.rec.anomalies.includes('HTTP_content_gap'))
})

t.test('CONNECT: tunnel after 200, TLS handed to the ssl analyzer', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  feed(a, false, 'HTTP/1.1 200 Connection established\r\n\r\n')
  feed(a, true, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]))
  feed(a, false, Buffer.from('GET / HTTP/1.1\r\n\r\n'))
  t.same(rec.upgrades, ['ssl'])
  a.finish(3)
  t.equal(rec.rows.length, 1)
  t.match(rec.rows[0], { method: 'CONNECT', uri: 'example.com:443', status_code: 200 })
})

t.test('not HTTP: violation; bounded lines and headers', async (t) => {
  const { a, rec } = harness()
  feed(a, true, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 binary\r\n')
  t.same(rec.violations, ['not a http request line'])
  t.same(rec.confirmed, [])

  const h = harness({ maxLineBytes: 64, maxHeaders: 3 })
  feed(h.a, true, `GET /${'a'.repeat(500)} HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nHost: late\r\nUser-Agent: ${'u'.repeat(300)}\r\n\r\n`)
  h.a.finish(1)
  t.equal(h.rec.rows.length, 1)
  t.equal(str(h.rec.rows[0]!.uri).length, 64 - 4, 'URI cut at the line bound')
  t.equal(h.rec.rows[0]!.host, undefined, 'headers past the bound are ignored')
  t.ok(h.rec.anomalies.includes('HTTP_request_line_too_long'))
  t.ok(h.rec.anomalies.includes('HTTP_too_many_headers'))
})

t.test('HTTP/0.9: the whole server stream is the body', async (t) => {
  const { a, rec } = harness()
  feed(a, true, 'GET /old\r\n')
  feed(a, false, '<html>old school</html>')
  a.finish(1)
  t.match(rec.rows[0], { method: 'GET', uri: '/old', version: '0.9', response_body_len: 23, status_msg: '<empty>' })
})

t.test('partial TCP connections are ignored, as Zeek', async (t) => {
  const { a, rec } = harness({}, { ...makeConn(), partial: true })
  feed(a, true, 'GET / HTTP/1.1\r\n\r\n')
  feed(a, false, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
  a.finish(1)
  t.same([rec.rows.length, rec.confirmed.length], [0, 0])
})

t.test('start lines and URI unescaping as Zeek', async (t) => {
  const w: string[] = []
  const r = parseRequestLine(Buffer.from('GET /a b HTTP/1.1'), w)
  t.ok(typeof r !== 'string' && r.uri.toString() === '/a b' && r.version.minor === 1, 'URI runs to the version')
  t.equal(parseRequestLine(Buffer.from('@@@'), []), 'bad_HTTP_request')
  t.equal(parseRequestLine(Buffer.from('/ HTTP/1.1'), []), 'bad_HTTP_request_with_version')
  t.same(parseReplyLine(Buffer.from('HTTP/1.1 404')), { version: { major: 1, minor: 1 }, code: 404, reason: undefined })
  t.equal(parseReplyLine(Buffer.from('HTTX/1.1 200 OK')), undefined)
  const weirds: string[] = []
  t.equal(unescapeUri(Buffer.from('%41%u0042%%43%zz%4'), weirds).toString('latin1'), 'ABC%zz%4')
  t.same(weirds, ['double_%_in_URI', 'unescaped_%_in_URI', 'partial_escape_at_end_of_URI'])
})

t.test('MIME sniffing by content', async (t) => {
  t.equal(sniffMime(Buffer.from('\x89PNG\r\n\x1a\n....', 'latin1')), 'image/png')
  t.equal(sniffMime(Buffer.from('GIF89a......')), 'image/gif')
  t.equal(sniffMime(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])), 'image/jpeg')
  t.equal(sniffMime(Buffer.from('  <!-- c -->\n<HTML><head>')), 'text/html')
  t.equal(sniffMime(Buffer.from('{"a": 1}')), 'text/json')
  t.equal(sniffMime(Buffer.from('just some plain text here')), 'text/plain')
  t.equal(sniffMime(Buffer.from([0, 1, 2, 3, 4, 5])), undefined)
  t.equal(sniffMime(Buffer.from(' '.repeat(5000) + 'x')), 'text/plain', 'long white space runs stay linear')
})

t.test('detection and registration', async (t) => {
  t.ok(detectHttp(false, Buffer.from('HTTP/1.1 200 OK\r\n')))
  t.notOk(detectHttp(false, Buffer.from('SSH-2.0-x')))
  t.notOk(detectHttp(true, Buffer.from('GET / HTTP/1.1')))
  t.same([HTTP_ANALYZER.name, HTTP_ANALYZER.ports.includes(80), HTTP_ANALYZER.ports.includes(8080)], ['http', true, true])
  t.equal(hostName(Buffer.from('WWW.Example.COM.:80')), 'www.example.com')
  t.equal(hostName(Buffer.from('10.1.2.3:8080')), undefined)
})

t.test('chunks whose memory is reused after delivery (header lines are kept as views only while the chunk lasts)', async (t) => {
  const req = 'POST /up HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: agent/1.0\r\n  (folded part)\r\nReferer: http://r.example/\r\n' +
    'Origin: http://o.example\r\nContent-Length: 3\r\nContent-Disposition: attachment; filename="a b.txt"\r\n\r\nabc'
  const rep = 'HTTP/1.1 200 OK\r\nServer: srv/2\r\nContent-Type: text/plain; name="n.txt"\r\nContent-Length: 4\r\n\r\nwxyz'
  const run = (size: number, reuse: boolean): unknown[] => {
    const { a, rec } = harness()
    const scratch = Buffer.alloc(1 << 16)
    const deliver = (isOrig: boolean, text: string): void => {
      const b = Buffer.from(text, 'latin1')
      for (let i = 0; i < b.length; i += size) {
        const n = Math.min(size, b.length - i)
        const chunk = reuse ? scratch.subarray(0, n) : Buffer.from(b.subarray(i, i + n))
        b.copy(chunk, 0, i, i + n)
        a.deliver(isOrig, chunk, 1001)
        if (reuse) scratch.fill(0x58)
      }
    }
    deliver(true, req)
    deliver(false, rep)
    a.finish(2000)
    return [rec.rows.map((r) => ({ ...r, resp_fuids: undefined, orig_fuids: undefined, uid: undefined })), rec.observations]
  }
  const whole = run(1 << 20, false)
  for (const size of [1, 5, 7, 13, 40]) t.same(run(size, true), whole, `chunks of ${size}, memory reused`)
  t.match((whole[0] as Array<Record<string, unknown>>)[0], { host: 'www.example.org', referrer: 'http://r.example/', origin: 'http://o.example', user_agent: 'agent/1.0  (folded part)' })
})

t.test('MIME sniffing sees the first 4096 body bytes however the body arrives (pieces, memory reused, chunked, gzip)', async (t) => {
  // Each body's type is decided by bytes after its first piece; the last one's only by bytes past 4096 (not seen).
  const bodies: Array<[string, string | undefined]> = [
    [' '.repeat(3000) + '<HTML><body>x</body></HTML>', 'text/html'],
    ['\n'.repeat(700) + '{ "k" : 1 }', 'text/json'],
    ['#!/usr/bin/env python\nprint(1)\n', 'text/x-python'],
    ['\x89PN' + 'G'.repeat(20), 'image/png'],
    [' '.repeat(4095) + '{"a": 1}', 'text/plain'],
    ['\x00\x01' + '\x02'.repeat(5000) + '<html>', undefined],
  ]
  const reply = (body: string, framing: 'length' | 'chunked' | 'gzip'): Buffer => {
    if (framing === 'gzip') {
      const z = gzipSync(Buffer.from(body, 'latin1'))
      return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${z.length}\r\n\r\n`), z])
    }
    if (framing === 'chunked') {
      const b = Buffer.from(body, 'latin1')
      const parts: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')]
      for (let i = 0; i < b.length; i += 1000) {
        const c = b.subarray(i, i + 1000)
        parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'))
      }
      parts.push(Buffer.from('0\r\n\r\n'))
      return Buffer.concat(parts)
    }
    return Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'latin1')
  }
  for (const [body, want] of bodies) {
    for (const framing of ['length', 'chunked', 'gzip'] as const) {
      const data = reply(body, framing)
      for (const size of [1 << 20, 1, 333, 1460]) {
        const { a, rec } = harness()
        feed(a, true, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n')
        // Each piece's memory is overwritten after delivery: what sniffing keeps must be a copy.
        const scratch = Buffer.alloc(size)
        for (let i = 0; i < data.length; i += size) {
          const n = Math.min(size, data.length - i)
          data.copy(scratch, 0, i, i + n)
          a.deliver(false, scratch.subarray(0, n), 1001)
          scratch.fill(0x3c)
        }
        a.finish(2000)
        t.same(rec.rows[0]?.resp_mime_types, want === undefined ? undefined : [want], `${JSON.stringify(body.slice(0, 12))}… ${framing}, pieces of ${size}`)
      }
    }
  }
})
