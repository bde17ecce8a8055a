import t from 'tap'
import { Trace } from './helpers/flow-fixtures.js'

// One generated trace per Zeek conn_state, with the history Zeek writes for it ('a'/'A' only
// for pure ACKs: a data packet that also acks gives 'D'/'d').
// Sequence numbers: client ISN 1000, server ISN 5000.
const cases: Array<{ state: string; history: string; build: (tr: Trace) => Trace; note?: string }> = [
  { state: 'S0', history: 'S', build: (tr) => tr.tcp('C', 'S', 1000, 0) },
  { state: 'REJ', history: 'Sr', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('S', 'RA', 0, 1001) },
  { state: 'S1', history: 'ShADd', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001).tcp('C', 'PA', 1001, 5001, 10).tcp('S', 'PA', 5001, 1011, 20).tcp('C', 'A', 1011, 5021) },
  {
    state: 'SF', history: 'ShADdFf',
    build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001).tcp('C', 'PA', 1001, 5001, 10)
      .tcp('S', 'PA', 5001, 1011, 20).tcp('C', 'FA', 1011, 5021).tcp('S', 'FA', 5021, 1012).tcp('C', 'A', 1012, 5022),
  },
  { state: 'S2', history: 'ShAF', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001).tcp('C', 'FA', 1001, 5001) },
  { state: 'S3', history: 'ShAf', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001).tcp('S', 'FA', 5001, 1001) },
  { state: 'RSTO', history: 'ShAR', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001).tcp('C', 'R', 1001, 0) },
  { state: 'RSTR', history: 'ShAr', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001).tcp('S', 'R', 5001, 0) },
  { state: 'RSTOS0', history: 'SR', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('C', 'R', 1001, 0) },
  { state: 'RSTRH', history: '^hr', build: (tr) => tr.tcp('S', 'SA', 5000, 1001).tcp('S', 'R', 5001, 0), note: 'server port 8080 is a likely server port: Zeek flips the SYN-ACK' },
  { state: 'SH', history: 'SF', build: (tr) => tr.tcp('C', 'S', 1000, 0).tcp('C', 'F', 1001, 0) },
  { state: 'SHR', history: '^hf', build: (tr) => tr.tcp('S', 'SA', 5000, 1001).tcp('S', 'FA', 5001, 1001) },
  { state: 'OTH', history: 'DdA', build: (tr) => tr.tcp('C', 'PA', 1001, 5001, 10).tcp('S', 'PA', 5001, 1011, 10).tcp('C', 'A', 1011, 5011) },
]

for (const c of cases) {
  t.test(`conn_state ${c.state}`, async (t) => {
    const { recs } = c.build(new Trace()).run()
    t.equal(recs.length, 1, 'one connection')
    t.equal(recs[0]!.connState, c.state, c.note ?? 'state')
    t.equal(recs[0]!.history, c.history, 'history')
  })
}

t.test('every one of the 13 states is covered', async (t) => {
  t.same(new Set(cases.map((c) => c.state)).size, 13)
})

t.test('sizes come from sequence space, ip_bytes from IP lengths, duration ends at the last FIN', async (t) => {
  const { recs } = new Trace().tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001)
    .tcp('C', 'PA', 1001, 5001, 100).tcp('S', 'PA', 5001, 1101, 300).tcp('C', 'FA', 1101, 5301).tcp('S', 'FA', 5301, 1102)
    .wait(2).tcp('C', 'A', 1102, 5302).run()
  const r = recs[0]!
  t.equal(r.origBytes, 100)
  t.equal(r.respBytes, 300)
  t.equal(r.origPkts, 5)
  t.equal(r.respPkts, 3)
  t.equal(r.origIpBytes, 5 * 40 + 100)
  t.equal(r.respIpBytes, 3 * 40 + 300)
  t.equal(r.duration!.toFixed(6), '0.006000', 'trailing ACK after both FINs is not in the duration')
})

t.test('retransmission, content gap and zero window letters', async (t) => {
  const { recs } = new Trace().tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001)
    .tcp('C', 'PA', 1001, 5001, 10).tcp('C', 'PA', 1001, 5001, 10) // retransmission → T
    .tcp('C', 'PA', 1021, 5001, 10) // 1011..1021 never seen
    .tcp('S', 'A', 5001, 1031) // ack beyond the hole → G, missed 10
    .tcp('S', 'A', 5001, 1031, 0, { window: 0 }) // zero window → w
    .run()
  const r = recs[0]!
  t.equal(r.history, 'ShADTaGw')
  t.equal(r.missedBytes, 10)
})

t.test('bad TCP checksum: C in history, packet otherwise ignored; -C accepts it', async (t) => {
  const tr = new Trace().tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001, 0, { badChecksum: true })
  const strict = tr.run().recs[0]!
  t.equal(strict.history, 'Sc')
  t.equal(strict.connState, 'S0')
  t.equal(strict.respPkts, 0)
  const lax = tr.run({ ignoreChecksums: true }).recs[0]!
  t.equal(lax.history, 'Sh')
})

t.test('a new SYN with another ISN after a reset starts a new connection', async (t) => {
  const { recs } = new Trace().tcp('C', 'S', 1000, 0).tcp('S', 'RA', 0, 1001).wait(1).tcp('C', 'S', 9000, 0).tcp('S', 'RA', 0, 9001).run()
  t.same(recs.map((r) => r.connState), ['REJ', 'REJ'])
})

t.test('timers: an unanswered SYN is removed after tcp_attempt_delay, a UDP flow after its inactivity timeout', async (t) => {
  const { recs } = new Trace().tcp('C', 'S', 1000, 0).wait(6).tcp('C', 'S', 1000, 0).run()
  t.equal(recs.length, 2, 'retransmitted SYN after 6 s is a second S0 connection, as in Zeek')
  t.same(recs.map((r) => r.reason), ['inactive', 'flush'])
  const u = new Trace(5000, 5001).udp('C', 10).wait(61).udp('C', 10).run().recs
  t.equal(u.length, 2)
  t.equal(u[0]!.connState, 'S0')
})

t.test('UDP: orientation by likely server port, SF, bytes from the UDP length', async (t) => {
  const { recs } = new Trace(53, 40000).udp('C', 30).udp('S', 90).run()
  const r = recs[0]!
  t.equal(r.origP, 40000, 'flipped: port 53 answered from the server side')
  t.equal(r.connState, 'SF')
  t.equal(r.history, '^dD', 'history letters follow the flipped roles')
  t.equal(r.origBytes, 90)
  t.equal(r.respBytes, 30)
})

t.test('flow cap: the least recently active flow is evicted and counted', async (t) => {
  const tr = new Trace()
  for (let i = 0; i < 5; i++) new Trace(40000 + i).udp('C', 1).frames.forEach((f) => tr.frames.push({ ...f, tsSec: 1_600_000_000, tsNsec: i * 1000 }))
  const { recs, pipeline } = tr.run({ maxFlows: 3 })
  t.equal(recs.length, 5)
  t.same(recs.slice(0, 2).map((r) => r.reason), ['evicted', 'evicted'])
  t.same(recs.slice(0, 2).map((r) => r.origP), [40000, 40001], 'oldest first')
  t.equal(pipeline.flowCounters().flows_evicted, 2)
})

t.test('active timeout emits interim records for long flows', async (t) => {
  const tr = new Trace(5000, 5001)
  for (let i = 0; i < 5; i++) tr.udp('C', 10).wait(30)
  const { recs } = tr.run({ activeTimeout: 60 })
  const interim = recs.filter((r) => r.interim)
  t.ok(interim.length >= 1, 'at least one interim record')
  t.equal(recs.filter((r) => !r.interim).length, 1, 'one final record')
  t.equal(new Set(recs.map((r) => r.uid)).size, 1, 'same uid throughout')
})
