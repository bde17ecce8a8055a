// Live capture's once-a-second tick (timers on a quiet link) must not rewrite packet times.
import t from 'tap'
import { parseCaptureBuffer } from '../agent/capture/capture-file.js'
import { packetTime } from '../agent/capture/raw-packet.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { CLOCK_STEP_BACK_S, FlowPipeline, TICK_SLACK_S } from '../agent/pipeline/flow-pipeline.js'
import { Trace } from './helpers/flow-fixtures.js'
import { buildPcap } from './helpers/pcap-writer.js'

const T0 = 1_600_000_000

/** A TCP session (8 packets, 1 ms apart) starting at T0 + `at`. */
function session(trace: Trace): Trace {
  return trace.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001)
    .tcp('C', 'PA', 1001, 5001, 10).tcp('S', 'PA', 5001, 1011, 20).tcp('C', 'FA', 1011, 5021).tcp('S', 'FA', 5021, 1012).tcp('C', 'A', 1012, 5022)
}

t.test('packets stamped before a tick and delivered after it keep their own times', async (t) => {
  const tr = session(new Trace(40001)).wait(9.992)
  session(tr)
  const start = tr.frames[8]!.tsSec + tr.frames[8]!.tsNsec / 1e9
  const recs: ConnRecord[] = []
  const p = new FlowPipeline({ app: false, ignoreChecksums: true }, { onConn: (r) => recs.push(r) })
  let ticked = false
  parseCaptureBuffer(buildPcap(tr.frames), (pkt) => {
    // The second session's packets were read from the kernel buffer after the wall-clock tick.
    if (!ticked && packetTime(pkt) >= start) { p.tick(start + 0.5); ticked = true }
    p.handle(pkt)
  })
  p.flushAll()
  t.ok(ticked)
  // The oracle: the same frames without any tick.
  const plain: ConnRecord[] = []
  const q = new FlowPipeline({ app: false, ignoreChecksums: true }, { onConn: (r) => plain.push(r) })
  parseCaptureBuffer(buildPcap(tr.frames), q.handle)
  q.flushAll()
  const view = (r: ConnRecord): string => `${(r.ts - T0).toFixed(6)} ${r.duration?.toFixed(6) ?? '-'} ${r.connState} ${r.history} ${r.origPkts}/${r.respPkts}`
  t.equal(recs.length, 2)
  t.same(recs.map(view), plain.map(view), 'records equal to a run without ticks')
  const second = recs.find((r) => Math.abs(r.ts - start) < 1e-6)
  t.ok(second?.duration !== undefined && second.duration > 0.005, `the session across the tick has its duration, got ${String(second?.duration)}`)
  t.equal(p.pipelineCounters().packets_out_of_order_time ?? 0, 0, 'no packet was clamped')
})

t.test('on a quiet link the tick still expires idle connections, TICK_SLACK_S behind wall time', async (t) => {
  const tr = new Trace(40002).udp('C', 10).udp('S', 20)
  const recs: ConnRecord[] = []
  const p = new FlowPipeline({ app: false, ignoreChecksums: true }, { onConn: (r) => recs.push(r) })
  parseCaptureBuffer(buildPcap(tr.frames), p.handle)
  p.tick(T0 + 60 + TICK_SLACK_S - 1)
  t.equal(recs.length, 0, 'not yet: 60 s of UDP inactivity are not over TICK_SLACK_S behind wall time')
  p.tick(T0 + 61 + TICK_SLACK_S)
  t.equal(recs.length, 1, 'expired by the tick')
  t.equal(recs[0]!.connState, 'SF')
})

t.test('a clock stepped back: connections so far end as they are, later ones get their own times', async (t) => {
  // Session 1 at T0, then the clock is stepped back an hour, then session 2 lasting ~10 s.
  const tr = session(new Trace(40003)).wait(-3600)
  session(tr)
  const frames = tr.frames
  // Stretch session 2 to ~10 s (its last three packets 10 s later).
  for (const f of frames.slice(13)) f.tsSec += 10
  const recs: ConnRecord[] = []
  const weirds: string[] = []
  const p = new FlowPipeline({ app: false, ignoreChecksums: true }, { onConn: (r) => recs.push(r), onWeird: (w) => weirds.push(w.name) })
  parseCaptureBuffer(buildPcap(frames), p.handle)
  p.flushAll()
  t.equal(recs.length, 2)
  const [first, second] = recs
  t.ok(Math.abs(first!.ts - T0) < 1e-6 && (first!.duration ?? 0) > 0.005, 'the first session keeps its time and duration')
  t.ok(Math.abs(second!.ts - (T0 - 3600 + 0.008)) < 0.01, `the second starts on the new time base (${(second!.ts - T0).toFixed(3)} s from T0)`)
  t.ok((second!.duration ?? 0) > 9.9, `and has its own duration, not 0 (got ${String(second!.duration)})`)
  t.equal(p.pipelineCounters().clock_steps_back, 1, 'counted')
  t.same(weirds, ['capture_clock_stepped_back'], 'and a weird row')
  // Small disorder (under CLOCK_STEP_BACK_S) is still clamped, not a step.
  const q = new FlowPipeline({ app: false, ignoreChecksums: true }, { onConn: () => undefined })
  const small = session(new Trace(40004)).wait(-(CLOCK_STEP_BACK_S - 1))
  session(small)
  parseCaptureBuffer(buildPcap(small.frames), q.handle)
  t.equal(q.pipelineCounters().clock_steps_back ?? 0, 0)
  t.ok((q.pipelineCounters().packets_out_of_order_time ?? 0) > 0, 'clamped instead')
})
