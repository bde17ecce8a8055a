/**
 * Parked UDP sessions: a DNS connection whose exchanges are all answered holds no session
 * between datagrams (it stays tracked for the 60 s UDP inactivity timeout); the next datagram
 * attaches a new DNS analyzer by port. The logs must be what one session for the whole
 * connection writes: every row, the rtt pairing, the pending query at the end, the service.
 */
import t from 'tap'
import { parseCaptureBuffer } from '../agent/capture/capture-file.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { FlowPipelineBase } from '../agent/pipeline/flow-pipeline-base.js'
import { dnsAnalyzerFactory } from '../agent/app/dns/index.js'
import { AppDispatcher } from '../agent/app/app-dispatcher.js'
import type { AppAnalyzerFactory, AppOutput } from '../agent/app/app-analyzer.js'
import { dnsMessage, QUERY, rdA, RESPONSE } from './helpers/dns-builder.js'
import { ethernet, ETHERTYPE_IPV4, ipv4, IPPROTO_UDP, udp } from './helpers/packet-builder.js'
import { buildPcap, type CaptureFrame } from './helpers/pcap-writer.js'
import { FlowTable } from '../agent/flow/flow-table.js'
import type { FlowPipelineParts } from '../agent/pipeline/flow-pipeline-base.js'

const TS_PARTS: FlowPipelineParts = { makeTable: (c, e) => new FlowTable(c, e), makeDispatcher: (c, d) => new AppDispatcher(c, d) }

const C = '10.0.0.1'
const S = '10.0.0.53'

function frame(ts: number, fromClient: boolean, payload: Buffer): CaptureFrame {
  const [src, dst, sport, dport] = fromClient ? [C, S, 40000, 53] : [S, C, 53, 40000]
  const data = ethernet({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', etherType: ETHERTYPE_IPV4 },
    ipv4({ src, dst, protocol: IPPROTO_UDP }, udp({ src, dst, sport, dport }, payload)))
  const sec = Math.floor(ts)
  return { tsSec: sec, tsNsec: Math.round((ts - sec) * 1e6) * 1000, data }
}

const query = (id: number, name: string): Buffer => dnsMessage({ id, flags: QUERY, questions: [{ name, type: 1 }] })
const reply = (id: number, name: string, ip: string): Buffer =>
  dnsMessage({ id, flags: RESPONSE, questions: [{ name, type: 1 }], answers: [{ name, type: 1, rdata: rdA(ip) }] })

t.test('a DNS connection answered in full is parked between exchanges and resumed by port', async (t) => {
  const t0 = 1_700_000_000
  const frames = [
    frame(t0, true, query(1, 'a.example')),
    frame(t0 + 0.01, false, reply(1, 'a.example', '192.0.2.1')),
    // 10 s later, same 5-tuple: the connection is still tracked (60 s timeout), its session parked.
    frame(t0 + 10, true, query(2, 'b.example')),
    frame(t0 + 10.02, false, reply(2, 'b.example', '192.0.2.2')),
    // A query never answered: pending when the capture ends, logged by finish().
    frame(t0 + 20, true, query(3, 'c.example')),
  ]
  const rows: Record<string, unknown>[] = []
  const recs: ConnRecord[] = []
  const p = new FlowPipelineBase({ app: true }, { onConn: (r) => recs.push(r), onAppLog: (path, row) => { if (path === 'dns') rows.push(row) } }, [dnsAnalyzerFactory], TS_PARTS)
  parseCaptureBuffer(buildPcap(frames), p.handle)
  t.equal(p.app!.counters.get('sessions_parked'), 2, 'parked after each answered exchange')
  t.equal(p.app!.counters.get('sessions_resumed'), 2, 'resumed by the next query')
  t.equal(p.app!.counters.get('sessions'), 1, 'one connection, one session opened')
  p.flushAll()
  t.equal(recs.length, 1)
  t.equal(recs[0]!.service, 'dns')
  t.same(rows.map((r) => [r.trans_id, r.query, r.rtt === undefined ? '-' : (r.rtt as number).toFixed(2), r.uid]),
    [[1, 'a.example', '0.01', recs[0]!.uid], [2, 'b.example', '0.02', recs[0]!.uid], [3, 'c.example', '-', recs[0]!.uid]])
})

t.test('a connection parked at its end keeps its service; an unanswered query is never parked', async (t) => {
  const t0 = 1_700_000_000
  const recs: ConnRecord[] = []
  const rows: Record<string, unknown>[] = []
  const p = new FlowPipelineBase({ app: true }, { onConn: (r) => recs.push(r), onAppLog: (_path, row) => rows.push(row) }, [dnsAnalyzerFactory], TS_PARTS)
  parseCaptureBuffer(buildPcap([frame(t0, true, query(7, 'd.example'))]), p.handle)
  t.equal(p.app!.counters.get('sessions_parked'), 0, 'a pending query keeps the session')
  parseCaptureBuffer(buildPcap([frame(t0 + 0.5, false, reply(7, 'd.example', '192.0.2.7'))]), p.handle)
  t.equal(p.app!.counters.get('sessions_parked'), 1)
  p.flushAll()
  t.equal(recs[0]!.service, 'dns', 'the service of the parked session reaches conn.log')
  t.equal(rows.length, 1, 'nothing more written at the end')
})

t.test('dispatcher: only a port-attached UDP session with every analyzer idle is parked', async (t) => {
  const conn = { uid: 'C1', ts: 1, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP: 53, proto: 'udp' as const }
  const made: AppOutput[] = []
  let idle = false
  const idling = (name: string, port: number): AppAnalyzerFactory => ({
    name, transports: ['udp', 'tcp'], ports: [port],
    create: (_c, out) => { made.push(out); return { deliver: () => { out.confirm(name) }, finish: () => {}, idle: () => idle } },
  })
  const d = new AppDispatcher({}, { factories: [idling('x', 53), idling('y', 9)], onLog: () => {} })
  const s = d.open(conn, 1)
  d.udpPayload(s, true, Buffer.from('q'), 1)
  t.notOk(d.park(s), 'not idle: kept')
  idle = true
  t.ok(d.park(s), 'idle: parked')
  t.ok(s.closed)
  const r = d.resume(conn, s.services.join(','))
  t.same(r.services, ['x'], 'services carried over')
  t.equal(r.analyzers.length, 1, 'the port analyzer attached again')
  t.equal(made.length, 2)
  // Upgraded: a resumed session would not have the upgrade, so it is never parked.
  made[1]!.upgrade('y')
  t.notOk(d.park(r), 'an upgrade keeps the session')
  // TCP is never parked.
  const tcp = d.open({ ...conn, proto: 'tcp' }, 1)
  t.notOk(d.park(tcp))
  // A detached analyzer would come back on resume: kept.
  const u = d.open(conn, 2)
  u.analyzers[0]!.detach()
  t.notOk(d.park(u))
})
