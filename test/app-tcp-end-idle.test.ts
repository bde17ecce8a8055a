/**
 * TCP sessions let go when both ends have closed and nothing is left to write: an HTTP
 * connection whose exchanges are all logged holds no session for the 5 s close delay. The
 * logs must be those of a session kept until removal; a reply that ends with the connection
 * (no Content-Length) keeps its session, and its row is still written at the end.
 */
import t from 'tap'
import { parseCaptureBuffer } from '../agent/capture/capture-file.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { FlowPipelineBase } from '../agent/pipeline/flow-pipeline-base.js'
import { HTTP_ANALYZER } from '../agent/app/http/index.js'
import { AppDispatcher } from '../agent/app/app-dispatcher.js'
import { ethernet, ETHERTYPE_IPV4, ipv4, IPPROTO_TCP, tcp } from './helpers/packet-builder.js'
import { buildPcap, type CaptureFrame } from './helpers/pcap-writer.js'
import { FlowTable } from '../agent/flow/flow-table.js'
import type { FlowPipelineParts } from '../agent/pipeline/flow-pipeline-base.js'

const TS_PARTS: FlowPipelineParts = { makeTable: (c, e) => new FlowTable(c, e), makeDispatcher: (c, d) => new AppDispatcher(c, d) }

const C = '10.0.0.1'
const S = '192.0.2.80'

/**
 * One HTTP exchange on a fresh connection, closed by both ends (client FIN first). With
 * `late`, a second request is sent before the client's FIN but arrives after both FINs.
 */
function exchange(reply: string, late?: string): CaptureFrame[] {
  const frames: CaptureFrame[] = []
  let ts = 1_700_000_000
  const seg = (fromClient: boolean, flags: string, seq: number, ack: number, payload = ''): void => {
    const [src, dst, sport, dport] = fromClient ? [C, S, 40000, 80] : [S, C, 80, 40000]
    const data = ethernet({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', etherType: ETHERTYPE_IPV4 },
      ipv4({ src, dst, protocol: IPPROTO_TCP }, tcp({ src, dst, sport, dport, seq, ack, flags }, Buffer.from(payload, 'latin1'))))
    const sec = Math.floor(ts)
    frames.push({ tsSec: sec, tsNsec: Math.round((ts - sec) * 1e6) * 1000, data })
    ts += 0.001
  }
  const req = 'GET /x HTTP/1.1\r\nHost: example.test\r\n\r\n'
  const more = late ?? ''
  seg(true, 'S', 100, 0)
  seg(false, 'SA', 500, 101)
  seg(true, 'A', 101, 501)
  seg(true, 'PA', 101, 501, req)
  seg(false, 'PA', 501, 101 + req.length, reply)
  const fin = 101 + req.length + more.length
  seg(true, 'FA', fin, 501 + reply.length)
  seg(false, 'FA', 501 + reply.length, fin + 1)
  if (late !== undefined) seg(true, 'PA', 101 + req.length, 502 + reply.length, late)
  seg(true, 'A', fin + 1, 502 + reply.length)
  return frames
}

function run(frames: CaptureFrame[]): { p: FlowPipelineBase; rows: Record<string, unknown>[]; recs: ConnRecord[]; endedBeforeFlush: number } {
  const rows: Record<string, unknown>[] = []
  const recs: ConnRecord[] = []
  const p = new FlowPipelineBase({ app: true }, { onConn: (r) => recs.push(r), onAppLog: (path, row) => { if (path === 'http') rows.push(row) } }, [HTTP_ANALYZER], TS_PARTS)
  parseCaptureBuffer(buildPcap(frames), p.handle)
  const endedBeforeFlush = p.app!.counters.get('sessions_ended_idle')
  p.flushAll()
  return { p, rows, recs, endedBeforeFlush }
}

t.test('an HTTP connection with every exchange logged lets its session go at the second FIN', async (t) => {
  const body = 'hello'
  const { rows, recs, endedBeforeFlush } = run(exchange(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`))
  t.equal(endedBeforeFlush, 1, 'session ended when both ends had closed, before the connection was removed')
  t.equal(rows.length, 1)
  t.same([rows[0]!.method, rows[0]!.status_code, rows[0]!.response_body_len, rows[0]!.uid], ['GET', 200, 5, recs[0]!.uid])
  t.equal(recs[0]!.service, 'http', 'the service reaches conn.log')
})

t.test('a reply that ends with the connection keeps the session; its row is written at the end', async (t) => {
  const { rows, recs, endedBeforeFlush } = run(exchange('HTTP/1.1 200 OK\r\nServer: t\r\n\r\nunterminated body'))
  t.equal(endedBeforeFlush, 0, 'reply still under way at the FINs: kept')
  t.equal(rows.length, 1, 'the row comes from finish() at removal')
  t.equal(rows[0]!.status_code, 200)
  t.equal(recs[0]!.service, 'http')
})

t.test('bytes sent before a FIN that arrive after both FINs: the FIN\'s ACK made them a gap already', async (t) => {
  // The server's FIN acknowledges the client's FIN: the stream skips the missing request as a
  // content gap (as it did with the session kept to the end), so the late copy is a
  // retransmission of skipped bytes either way and the session may end at that FIN.
  const late = 'GET /late HTTP/1.1\r\nHost: example.test\r\n\r\n'
  const { rows, endedBeforeFlush } = run(exchange('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', late))
  t.equal(endedBeforeFlush, 1)
  t.same(rows.map((r) => r.uri), ['/x'], 'the late request is not analyzed (content gap), as before')
})

t.test('dispatcher: idleAtEnd needs every attached analyzer idle and no bytes held out of order', async (t) => {
  let idle = true
  const d = new AppDispatcher({}, {
    factories: [{ name: 'x', transports: ['tcp'], ports: [7], create: () => ({ deliver: () => {}, finish: () => {}, idle: () => idle }) },
      { name: 'y', transports: ['tcp'], ports: [8], create: () => ({ deliver: () => {}, finish: () => {} }) }],
    onLog: () => {},
  })
  const conn = (respP: number) => ({ uid: 'C1', ts: 1, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP, proto: 'tcp' as const })
  const s = d.open(conn(7), 1)
  // FIN positions as the flow core has them: one past the FIN (no data: 2).
  t.ok(d.idleAtEnd(s, 2, 2), 'no data either way')
  t.notOk(d.idleAtEnd(s, 5, 2), 'data before the FIN never delivered: it may still come')
  idle = false
  t.notOk(d.idleAtEnd(s, 2, 2), 'an analyzer with something pending keeps it')
  idle = true
  d.tcpPayload(s, true, 1, Buffer.from('abc'), 1)
  t.ok(d.idleAtEnd(s, 5, 2), 'delivered up to the FIN')
  d.tcpPayload(s, true, 6, Buffer.from('f'), 1) // beyond a hole: held
  t.notOk(d.idleAtEnd(s, 8, 2), 'bytes held beyond a hole keep it (close() would deliver them)')
  t.notOk(d.idleAtEnd(d.open(conn(8), 1), 2, 2), 'an analyzer that cannot say idle keeps it')
})
