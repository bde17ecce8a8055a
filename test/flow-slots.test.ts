/**
 * Connection and TCP endpoint numbers live in typed-array columns by slot (agent/flow/conn.ts,
 * tcp-endpoint.ts): every slot must go back to the pool when the record is emitted, and flows
 * that reuse released slots must get exactly the records fresh slots would give.
 */
import t from 'tap'
import { parseCaptureBuffer } from '../agent/capture/capture-file.js'
import { connSlotsInUse } from '../agent/flow/conn.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { tcpEndpointSlotsInUse } from '../agent/flow/tcp-endpoint.js'
import { FlowPipeline } from '../agent/pipeline/flow-pipeline.js'
import { Trace } from './helpers/flow-fixtures.js'
import { buildPcap, type CaptureFrame } from './helpers/pcap-writer.js'

/** n TCP sessions (handshake, data, FIN both ways) and n one-packet UDP flows, interleaved in time. */
function capture(n: number, offset: number): Buffer {
  const frames: CaptureFrame[] = []
  for (let i = 0; i < n; i++) {
    const tr = new Trace(30000 + offset + i, 8080).wait(i * 0.01)
    tr.tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001).tcp('C', 'PA', 1001, 5001, 100 + i)
      .tcp('S', 'A', 5001, 1101 + i).tcp('C', 'FA', 1101 + i, 5001).tcp('S', 'FA', 5001, 1102 + i).tcp('C', 'A', 1102 + i, 5002)
    tr.udp('C', 20 + i)
    frames.push(...tr.frames)
  }
  frames.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec)
  return buildPcap(frames)
}

function run(p: FlowPipeline, pcap: Buffer): void {
  parseCaptureBuffer(pcap, p.handle)
}

/** What a record says, minus the random uid. */
const key = (r: ConnRecord): string => JSON.stringify({ ...r, uid: '' })

t.test('every slot is released when its record is emitted', async (t) => {
  const conns0 = connSlotsInUse()
  const eps0 = tcpEndpointSlotsInUse()
  const recs: ConnRecord[] = []
  const p = new FlowPipeline({ app: false }, { onConn: (r) => recs.push(r) })
  run(p, capture(300, 0))
  t.ok(connSlotsInUse() > conns0, 'slots are taken while flows are tracked')
  p.flushAll()
  t.equal(recs.length, 600, '300 TCP + 300 UDP records')
  t.equal(connSlotsInUse(), conns0, 'connection slots all back in the pool')
  t.equal(tcpEndpointSlotsInUse(), eps0, 'endpoint slots all back in the pool')
})

t.test('flows on recycled slots give the records fresh slots give', async (t) => {
  // Warm the pool with released slots holding other flows' numbers, then run the same capture
  // through a second pipeline: its records must equal a run on never-used slots.
  const fresh: ConnRecord[] = []
  const p1 = new FlowPipeline({ app: false }, { onConn: (r) => fresh.push(r) })
  run(p1, capture(200, 5000))
  p1.flushAll()

  const dirty = new FlowPipeline({ app: false }, { onConn: () => {} })
  run(dirty, capture(400, 0))
  dirty.flushAll()
  const again: ConnRecord[] = []
  const p2 = new FlowPipeline({ app: false }, { onConn: (r) => again.push(r) })
  run(p2, capture(200, 5000))
  p2.flushAll()
  t.same(again.map(key), fresh.map(key))
  t.ok(fresh.some((r) => r.connState === 'SF' && r.history === 'ShADaFf'), `the TCP sessions complete (SF, ShADaFf): ${[...new Set(fresh.map((r) => r.connState + ' ' + r.history))].join(', ')}`)
})
