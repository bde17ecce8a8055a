// The topology merge is exactly once across restarts although batches of several agents
// finish storing out of their number order: the watermark only passes batches that are
// merged (or were never stored), the merged batches above it are persisted with it, a batch
// handed over twice is merged once, and a failed store lets the watermark pass its number.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { encodeBatch } from '../protocol/index.js'
import { IngestService, type StoredBatch } from '../collector/ingest/ingest-service.js'
import { CollectorStore, type AgentRecord } from '../collector/storage/index.js'
import { keys } from '../collector/storage/keys.js'
import { TopologyService } from '../collector/topology/topology-service.js'
import { batch } from './collector-fixtures.js'

const AGENT: AgentRecord = {
  id: 'agt_exactly_once', machineIdHash: 'm', nonceHash: 'n', tokenId: 'tok', enrolledWith: 'enr', enrolledAt: new Date(0).toISOString(),
  batches: 0, flows: 0, events: 0, observations: 0, appRecords: 0, gapRecords: { flows: 0, events: 0, observations: 0, appRecords: 0 },
}
const OPTS = { scopeByVlan: false, dedupWindowUs: 60_000_000, dedupEntries: 100_000, maxHosts: 100_000, maxEdges: 100_000, flushIntervalMs: 3_600_000, sliceMs: 5 }
const log = pino({ level: 'silent' })

function totals(s: TopologyService): { hosts: number; edges: number; flows: number; bytes: number } {
  let flows = 0
  let bytes = 0
  for (const e of s.model.edges.values()) { flows += e.flows; bytes += e.bytes }
  return { hosts: s.model.hosts.size, edges: s.model.edges.size, flows, bytes }
}

/** A batch write that fails after its number was handed out (as a full disk would). */
function failingWrite(store: CollectorStore, seq: number, error: string): Promise<number> {
  const empty = Buffer.alloc(0)
  return store.batches.write({
    agentId: AGENT.id, epoch: 1, seq, sentAtUs: 0, receivedAtUs: 0, flowSegment: empty, flowChunks: [], flowCount: 0,
    flowIndex: { minTsUs: 0, maxTsUs: 0, hosts: new Map(), services: new Map(), ports: new Map() },
    eventSegment: empty, eventCount: 0, eventMinTsUs: 0, observationSegment: empty, observationCount: 0, observationMinTsUs: 0,
    gapSegment: empty, gapCount: 0, appSegment: empty, appCount: 0, appMinTsUs: 0, appMaxTsUs: 0, extraOps: () => { throw new Error(error) },
  })
}

async function setup(t: Test): Promise<{ store: CollectorStore; ingest: IngestService; stored: StoredBatch[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-exactly-once-'))
  const store = new CollectorStore({ dataDir: dir, sync: false })
  await store.open()
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  await store.db.write(store.agents.putOps(AGENT))
  const ingest = new IngestService(store, { maxFlowsPerBatch: 100_000, maxEntriesPerBatch: 1_000_000 })
  const stored: StoredBatch[] = []
  ingest.onStored((b) => { stored.push(b) })
  return { store, ingest, stored }
}

t.test('a batch stored before the flush but merged after it is merged after a restart; none twice', async (t) => {
  const { store, ingest, stored } = await setup(t)
  const first = new TopologyService(store, OPTS, log)
  await first.start()
  await first.idle()
  for (let seq = 1; seq <= 3; seq++) await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, seq, 400))))
  t.same(stored.map((b) => b.n), [1, 2, 3])
  // Batch 2's store finished last (another agent's, in real life): 1 and 3 are merged and
  // flushed, then the process dies before 2 is merged.
  first.onStored(stored[0]!); await first.idle()
  first.onStored(stored[2]!); await first.idle()
  t.same(first.mergeMarks, { watermark: 1, above: 1 }, 'the watermark stops below the batch not merged yet')
  await first.stop()

  const second = new TopologyService(store, OPTS, log)
  await second.start()
  await second.idle()
  t.same(second.mergeMarks, { watermark: 3, above: 0 }, 'after the restart every stored batch is merged')
  t.equal(second.counters.batches_merged, 1, 'the restart merged batch 2 only (batch 3 was merged before the flush)')
  const after = totals(second)
  t.equal(after.flows, 1200, 'every flow of the three batches counted once')
  second.onStored(stored[2]!); await second.idle()
  t.equal(second.counters.batches_merged, 1, 'a batch handed over again is not merged again')
  t.same(totals(second), after)
  await second.rebuild()
  t.same(totals(second), after, 'the same topology as a rebuild from the stored batches')
  await second.stop()
})

t.test('a batch whose store failed does not hold the watermark back', async (t) => {
  const { store, ingest, stored } = await setup(t)
  const s = new TopologyService(store, OPTS, log)
  await s.start()
  await s.idle()
  await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, 1, 10))))
  s.onStored(stored[0]!); await s.idle()
  // Batch number 2 is handed out, then its write fails.
  const failed = failingWrite(store, 99, 'disk full')
  await t.rejects(failed, /disk full/)
  await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, 2, 10))))
  t.equal(stored[1]!.n, 3)
  s.onStored(stored[1]!); await s.idle()
  await s.flush()
  t.same(s.mergeMarks, { watermark: 3, above: 0 }, 'the abandoned number 2 is passed')
  t.equal(await store.topology.watermark(), 3, 'and persisted')
  t.same(await store.topology.mergedAbove(), [])
  await s.stop()
})

t.test('a restart passes numbers with no stored batch (abandoned in an earlier process)', async (t) => {
  const { store, ingest, stored } = await setup(t)
  const first = new TopologyService(store, OPTS, log)
  await first.start()
  await first.idle()
  await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, 1, 10))))
  await t.rejects(failingWrite(store, 98, 'io error'))
  await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, 2, 10))))
  // Batch 3 merged before batch 1, and the process died before the abandoned number 2 was
  // passed (as an earlier build could): the stored marks say watermark 0 and {3}.
  first.onStored(stored[1]!); await first.idle()
  await first.stop()
  const w = store.topology.flushBatch()
  await w.write(0, [3])
  await w.close()
  t.same(await store.topology.mergedAbove(), [3])
  const second = new TopologyService(store, OPTS, log)
  await second.start()
  await second.idle()
  t.same(second.mergeMarks, { watermark: 3, above: 0 })
  t.equal(totals(second).flows, 20)
  await second.stop()
})

t.test('after a restart with the newest batch records gone, new batches get numbers above the watermark', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-exactly-once-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let store = new CollectorStore({ dataDir: dir, sync: false })
  await store.open()
  await store.db.write(store.agents.putOps(AGENT))
  let ingest = new IngestService(store, { maxFlowsPerBatch: 100_000, maxEntriesPerBatch: 1_000_000 })
  let s = new TopologyService(store, OPTS, log)
  ingest.onStored(s.onStored)
  await s.start()
  await s.idle()
  for (let seq = 1; seq <= 2; seq++) await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, seq, 10))))
  await s.idle()
  await s.stop()
  // Retention expired the batch records (their flows were old); the counter starts from them.
  await store.db.write([{ type: 'del', key: keys.batch(1) }, { type: 'del', key: keys.batch(2) }])
  await store.close()
  store = new CollectorStore({ dataDir: dir, sync: false })
  await store.open()
  t.teardown(() => store.close())
  ingest = new IngestService(store, { maxFlowsPerBatch: 100_000, maxEntriesPerBatch: 1_000_000 })
  s = new TopologyService(store, OPTS, log)
  ingest.onStored(s.onStored)
  await s.start()
  await s.idle()
  const r = await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, 3, 10))))
  t.equal(r.n, 3, 'the number is not handed out a second time')
  await s.idle()
  t.equal(s.counters.batches_merged, 1, 'the new batch is merged')
  t.equal(totals(s).flows, 30)
  await s.stop()
})

t.test('a rebuild after retention deleted the oldest batch records passes their numbers in order', async (t) => {
  const { store, ingest, stored } = await setup(t)
  const s = new TopologyService(store, OPTS, log)
  await s.start()
  await s.idle()
  for (let seq = 1; seq <= 5; seq++) await ingest.ingest(AGENT, Buffer.from(encodeBatch(batch(AGENT.id, seq, 10))))
  for (const b of stored) s.onStored(b)
  await s.idle()
  await store.db.write([{ type: 'del', key: keys.batch(1) }, { type: 'del', key: keys.batch(2) }])
  let largestAbove = 0
  const watch = setInterval(() => { largestAbove = Math.max(largestAbove, s.mergeMarks.above) }, 0)
  const r = await s.rebuild()
  clearInterval(watch)
  t.equal(r.batches, 3, 'the three stored batches are merged again')
  t.same(s.mergeMarks, { watermark: 5, above: 0 })
  t.equal(largestAbove, 0, 'the expired numbers are passed before the later batches merge (the merged set never grows)')
  t.equal(totals(s).flows, 30)
  t.same(await store.topology.mergedAbove(), [])
  await s.stop()
})
