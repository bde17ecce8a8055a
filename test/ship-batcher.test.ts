/**
 * Batcher + batch encoder: batches close by size, by record count and by time; the bytes
 * the spool stores decode with Batch.decode into exactly the records added (flows, events,
 * observations, app records, stats, gaps); log-source acks run only after the durable
 * hand-off; a full memory queue drops the newest batch and records a gap (app records
 * included, as GAP_KIND_APP_RECORDS); app rows that cannot ship are counted.
 */
import t from 'tap'
import { type Flow, GapKind, GapReason, PROTOCOL_VERSION } from '../protocol/index.js'
import { BatchBodyWriter, encodeBatchHeader, normalizeContents, type BatchContents } from '../agent/ship/batch-encoder.js'
import { Batcher } from '../agent/ship/batcher.js'
import { connRecordToFlow, flowToConnRecord } from '../agent/ship/flow-encoding.js'
import { gapsForBatch, type GapRecord } from '../agent/ship/spool-gaps.js'
import type { AppendInput } from '../agent/ship/spool.js'
import { makeConn } from './helpers/ship-records.js'
import { decodeBody } from './helpers/batch-body.js'

t.test('body + header is one Batch; records decode back', async (t) => {
  const w = new BatchBodyWriter()
  for (let i = 1; i <= 3; i++) w.addFlow(connRecordToFlow(makeConn(i)))
  w.addEvent({ eventDataset: 'sshd', message: 'Failed password', sourceIp: '198.51.100.7', eventCategory: ['authentication'] }, 1_700_000_000_000_000)
  w.addObservation({ tsUs: 5, ip: new Uint8Array([10, 0, 0, 1]), name: 'host-a' })
  t.equal(w.contents.flows, 3)
  t.equal(w.contents.events, 1)
  t.equal(w.contents.observations, 1)
  t.equal(w.contents.firstFlowUs, Math.round((1_700_000_000 + 0.001) * 1e6))
  const size = w.bytes
  const body = w.finish()
  t.equal(body.length, size, 'bytes is exact')
  const header = encodeBatchHeader({ agentId: 'agent-1', epoch: 42, seq: 7, sentAtUs: 123, gaps: [{ kind: GapKind.GAP_KIND_FLOWS, count: 9, reason: GapReason.GAP_REASON_SPOOL_FULL, firstSeq: 2, lastSeq: 3, epoch: 42 }], stats: { version: '0.1.0', uptimeS: 3 } })
  const batch = decodeBody(body, header)
  t.equal(body.flowRuns.length, 1, 'three flows: one run')
  t.equal(batch.protocolVersion, PROTOCOL_VERSION)
  t.equal(batch.agentId, 'agent-1')
  t.equal(batch.epoch, 42)
  t.equal(batch.seq, 7)
  t.equal(batch.sentAtUs, 123)
  t.same(batch.flows.map((f) => flowToConnRecord(f as Flow).uid), ['C1', 'C2', 'C3'])
  t.same(flowToConnRecord(batch.flows[1] as Flow).origH, makeConn(2).origH)
  t.equal(batch.events[0]!.sourceIp, '198.51.100.7')
  t.equal(batch.hostObservations[0]!.name, 'host-a')
  t.equal(batch.gaps[0]!.count, 9)
  t.equal(batch.stats!.version, '0.1.0')
})

function collecting(opts: { delayMs?: number } = {}): { appended: AppendInput[]; gaps: GapRecord[]; append: (i: AppendInput) => Promise<number>; addGap: (g: GapRecord) => Promise<void> } {
  const appended: AppendInput[] = []
  const gaps: GapRecord[] = []
  return {
    appended, gaps,
    append: async (i) => { if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs)); appended.push(i); return appended.length },
    addGap: async (g) => { gaps.push(g) },
  }
}

t.test('closes by encoded size and by record count', async (t) => {
  const c = collecting()
  const b = new Batcher({ maxBatchBytes: 4096, maxBatchRecords: 1_000_000, maxDelayMs: 60_000 }, c)
  for (let i = 1; i <= 500; i++) b.addConn(makeConn(i))
  await b.flush()
  const sizes = c.appended.map((a) => a.body.length)
  t.ok(c.appended.length > 5, `${c.appended.length} batches`)
  for (const s of sizes.slice(0, -1)) t.ok(s >= 4096 && s < 4096 + 200, `closed just past the limit (${s})`)
  t.equal(c.appended.reduce((n, a) => n + a.contents.flows, 0), 500, 'every flow in exactly one batch')
  const c2 = collecting()
  const b2 = new Batcher({ maxBatchBytes: 1 << 30, maxBatchRecords: 100, maxDelayMs: 60_000 }, c2)
  for (let i = 1; i <= 250; i++) b2.addConn(makeConn(i))
  await b2.flush()
  t.same(c2.appended.map((a) => a.contents.flows), [100, 100, 50])
  const uids = c2.appended.flatMap((a) => decodeBody(a.body).flows.map((f) => f.uid))
  t.same(uids, Array.from({ length: 250 }, (_, i) => `C${i + 1}`), 'order kept')
})

t.test('closes by time', async (t) => {
  const c = collecting()
  const b = new Batcher({ maxDelayMs: 50 }, c)
  b.addConn(makeConn(1))
  t.equal(c.appended.length, 0)
  await new Promise((r) => setTimeout(r, 200))
  t.equal(c.appended.length, 1, 'the timer closed the batch')
  await b.stop()
})

t.test('event acks run after the durable hand-off, in order', async (t) => {
  const c = collecting({ delayMs: 20 })
  const b = new Batcher({ maxDelayMs: 10_000 }, c)
  const order: string[] = []
  b.addEvents([{ 'event.dataset': 'syslog', 'message': 'a', '@timestamp': '2024-01-01T00:00:00.000Z' }], () => order.push(`ack1 after ${c.appended.length}`))
  b.addEvents([{ 'event.dataset': 'syslog', 'message': 'b' }], () => order.push(`ack2 after ${c.appended.length}`))
  t.same(order, [], 'nothing acked before the spool write')
  await b.flush()
  t.same(order, ['ack1 after 1', 'ack2 after 1'])
  const batch = decodeBody(c.appended[0]!.body)
  t.same(batch.events.map((e) => e.message), ['a', 'b'])
  t.equal(batch.events[0]!.timestampMs, Date.parse('2024-01-01T00:00:00.000Z'))
})

t.test('a full memory queue drops the newest batch and records an exact gap', async (t) => {
  const c = collecting({ delayMs: 30 })
  const b = new Batcher({ maxBatchRecords: 10, maxPendingBytes: 1 }, c)
  for (let i = 1; i <= 35; i++) b.addConn(makeConn(i))
  await b.flush()
  const spooled = c.appended.reduce((n, a) => n + a.contents.flows, 0)
  const dropped = c.gaps.filter((g) => g.kind === GapKind.GAP_KIND_FLOWS && g.reason === GapReason.GAP_REASON_QUEUE_FULL).reduce((n, g) => n + g.count, 0)
  t.ok(dropped > 0, `dropped ${dropped}`)
  t.equal(spooled + dropped, 35, 'spooled + gaps = produced')
  t.equal(b.counters.get('batcher_flows_dropped_total'), dropped)
})

t.test('heartbeat closes a batch with stats even when empty', async (t) => {
  const c = collecting()
  const b = new Batcher({}, { ...c, stats: () => ({ version: 'x', uptimeS: 1 }) })
  b.heartbeat()
  await b.flush()
  t.equal(c.appended.length, 1)
  t.equal(c.appended[0]!.stats?.version, 'x')
  t.equal(c.appended[0]!.body.length, 0)
})

t.test('a spool that cannot write (disk full): records counted as dropped, an exact gap recorded, one log line', async (t) => {
  const gaps: GapRecord[] = []
  const appended: AppendInput[] = []
  let failing = true
  const logged: Array<{ failedBatches: number }> = []
  const log = { error: (o: { failedBatches: number }) => { logged.push(o) }, warn: () => undefined } as unknown as import('pino').Logger
  const b = new Batcher({ maxBatchRecords: 10, maxDelayMs: 60_000 }, {
    append: async (i) => { if (failing) throw new Error('IO error: 000003.log: No space left on device'); appended.push(i); return appended.length },
    addGap: async (g) => { gaps.push(g) },
    log,
  })
  for (let i = 0; i < 30; i++) b.addConn(makeConn(i + 1))
  await b.flush()
  t.equal(b.counters.get('batcher_spool_errors_total'), 3, 'three batches failed')
  t.equal(b.counters.get('batcher_flows_dropped_total'), 30, 'their 30 flows are counted as dropped')
  t.equal(gaps.reduce((n, g) => n + g.count, 0), 30, 'and the gaps account for exactly those 30 flows')
  t.ok(gaps.every((g) => g.kind === GapKind.GAP_KIND_FLOWS && g.reason === GapReason.GAP_REASON_SPOOL_ERROR && /No space left/.test(g.detail)), 'kind, reason and detail say why')
  t.equal(logged.length, 1, 'logged once, not once per batch')
  failing = false
  for (let i = 0; i < 10; i++) b.addConn(makeConn(100 + i))
  await b.flush()
  t.equal(appended.length, 1, 'space is back: the next batch is spooled')
  t.equal(b.counters.get('batcher_flows_dropped_total'), 30, 'nothing more dropped')
})

const appRow = (i: number): Record<string, unknown> => ({
  ts: 1_700_000_100 + i, uid: `C${i}`, 'id.orig_h': '10.0.0.10', 'id.orig_p': 40000 + i, 'id.resp_h': '10.0.0.1', 'id.resp_p': 53, query: `host${i}.example`,
})

t.test('app records: encoded into the batch, counted in its records, in order', async (t) => {
  const c = collecting()
  const b = new Batcher({ maxBatchRecords: 4, maxDelayMs: 60_000 }, c)
  b.addConn(makeConn(1))
  for (let i = 1; i <= 5; i++) b.addAppRecord('dns', appRow(i))
  await b.flush()
  t.same(c.appended.map((a) => [a.contents.flows, a.contents.appRecords]), [[1, 3], [0, 2]], 'the record limit counts app records')
  t.equal(c.appended[0]!.contents.firstAppRecordUs, 1_700_000_101_000_000)
  t.equal(c.appended[0]!.contents.lastAppRecordUs, 1_700_000_103_000_000)
  const recs = c.appended.flatMap((a) => decodeBody(a.body).appRecords)
  t.same(recs.map((r) => r.uid), ['C1', 'C2', 'C3', 'C4', 'C5'])
  t.equal(recs[0]!.log, 'dns')
  t.same(JSON.parse(String(recs[0]!.zeekJson)), appRow(1), 'the whole row as Zeek JSON')
  t.equal(b.counters.get('batcher_app_records_received_total'), 5)
  const c2 = collecting()
  const big = new Batcher({ maxBatchBytes: 4096, maxDelayMs: 60_000 }, c2)
  big.addAppRecord('http', { ts: 1, uri: 'x'.repeat(5000) })
  big.addAppRecord('http', { ts: 2, uri: 'y'.repeat(5000) })
  await big.flush()
  t.same(c2.appended.map((a) => a.contents.appRecords), [1, 1], 'the encoded size closes a batch too')
})

t.test('app records that cannot ship are counted, not batched', async (t) => {
  const c = collecting()
  const b = new Batcher({ maxDelayMs: 60_000 }, c)
  b.addAppRecord('http', { ts: 1, uri: 'x'.repeat(70 * 1024) })
  b.addAppRecord('http', { ts: 1, n: 1n })
  b.addAppRecord('http', { ts: 1, uri: '/' })
  await b.flush()
  t.equal(b.counters.get('batcher_app_records_received_total'), 3)
  t.equal(b.counters.get('batcher_app_records_oversized_total'), 1)
  t.equal(b.counters.get('batcher_app_records_unencodable_total'), 1)
  t.equal(c.appended.length, 1)
  t.equal(c.appended[0]!.contents.appRecords, 1)
  t.equal(decodeBody(c.appended[0]!.body).appRecords.length, 1)
})

t.test('dropped batches with app records: APP_RECORDS gaps with exact counts and time range', async (t) => {
  const c = collecting({ delayMs: 30 })
  const b = new Batcher({ maxBatchRecords: 10, maxPendingBytes: 1 }, c)
  for (let i = 1; i <= 35; i++) b.addAppRecord('dns', appRow(i))
  await b.flush()
  const spooled = c.appended.flatMap((a) => decodeBody(a.body).appRecords.map((r) => Number(r.tsUs)))
  const gaps = c.gaps.filter((g) => g.kind === GapKind.GAP_KIND_APP_RECORDS && g.reason === GapReason.GAP_REASON_QUEUE_FULL)
  const dropped = gaps.reduce((n, g) => n + g.count, 0)
  t.ok(dropped > 0, `dropped ${dropped}`)
  t.equal(spooled.length + dropped, 35, 'spooled + gaps = produced')
  t.equal(b.counters.get('batcher_app_records_dropped_total'), dropped)
  const all = Array.from({ length: 35 }, (_, i) => (1_700_000_101 + i) * 1e6)
  const lost = all.filter((ts) => !spooled.includes(ts))
  t.equal(Math.min(...gaps.map((g) => g.firstTsUs)), lost[0], 'gaps start at the first lost row')
  t.equal(Math.max(...gaps.map((g) => g.lastTsUs)), lost[lost.length - 1], 'and end at the last')

  const gaps2: GapRecord[] = []
  const failing = new Batcher({ maxBatchRecords: 10, maxDelayMs: 60_000 }, { append: async () => { throw new Error('No space left on device') }, addGap: async (g) => { gaps2.push(g) } })
  for (let i = 1; i <= 12; i++) failing.addAppRecord('dns', appRow(i))
  failing.addConn(makeConn(1))
  await failing.flush()
  t.same(gaps2.filter((g) => g.kind === GapKind.GAP_KIND_APP_RECORDS).map((g) => [g.count, g.reason, g.firstTsUs, g.lastTsUs]),
    [[10, GapReason.GAP_REASON_SPOOL_ERROR, 1_700_000_101e6, 1_700_000_110e6], [2, GapReason.GAP_REASON_SPOOL_ERROR, 1_700_000_111e6, 1_700_000_112e6]], 'a spool that cannot write: one gap per failed batch')
  t.equal(failing.counters.get('batcher_app_records_dropped_total'), 12)
})

t.test('gapsForBatch accounts for app records; spool entries of an older agent read as none', async (t) => {
  const w = new BatchBodyWriter()
  w.addFlow(connRecordToFlow(makeConn(1)))
  w.addAppRecord({ log: 'dns', tsUs: 5_000_000, uid: 'C1' })
  w.addAppRecord({ log: 'ssl', tsUs: 7_000_000, uid: 'C2' })
  t.equal(w.items, 3)
  const gaps = gapsForBatch(w.contents, 9, 4, GapReason.GAP_REASON_SPOOL_FULL, 'full')
  t.same(gaps.map((g) => [g.kind, g.count, g.firstTsUs, g.lastTsUs, g.firstSeq]), [
    [GapKind.GAP_KIND_FLOWS, 1, w.contents.firstFlowUs, w.contents.lastFlowUs, 4],
    [GapKind.GAP_KIND_APP_RECORDS, 2, 5_000_000, 7_000_000, 4],
  ])
  const old = { flows: 2, events: 0, observations: 1, firstFlowUs: 1, lastFlowUs: 2, firstEventUs: 0, lastEventUs: 0, firstObservationUs: 3, lastObservationUs: 3 }
  const n = normalizeContents(old as Partial<BatchContents>)
  t.equal(n.appRecords, 0)
  t.equal(n.flows, 2)
  t.same(gapsForBatch(n, 1, 1, GapReason.GAP_REASON_SPOOL_FULL, '').map((g) => g.kind), [GapKind.GAP_KIND_FLOWS, GapKind.GAP_KIND_OBSERVATIONS], 'no NaN-count app-record gap')
})
