// The largest segment spans (flows, app records) are what time-window queries start back by.
// Two batches written at once may be applied by LevelDB in either order: the stored span must
// still be the larger one after a restart, and stores written before span keys existed load.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CollectorStore } from '../collector/storage/index.js'
import type { BatchWrite } from '../collector/storage/batch-store.js'
import { keys } from '../collector/storage/keys.js'

const T = 1_700_000_000_000_000

function spanning(seq: number, spanUs: number): BatchWrite {
  const empty = Buffer.alloc(0)
  return {
    agentId: 'agt_span', epoch: 1, seq, sentAtUs: T, receivedAtUs: T, flowSegment: empty, flowChunks: [Buffer.from([0])], flowCount: 1,
    flowIndex: { minTsUs: T, maxTsUs: T + spanUs, hosts: new Map(), services: new Map(), ports: new Map() },
    eventSegment: empty, eventCount: 0, eventMinTsUs: 0, observationSegment: empty, observationCount: 0, observationMinTsUs: 0,
    gapSegment: empty, gapCount: 0, appSegment: empty, appCount: 1, appMinTsUs: T, appMaxTsUs: T + spanUs, extraOps: () => [],
  }
}

const u64 = (v: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(v)); return b }

t.test('the larger span survives two writes that land in the opposite order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-span-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = new CollectorStore({ dataDir: dir, sync: false })
  await store.open()
  // The first write (span 5 s) is held until the second (span 10 s) has landed.
  // (A batch's write is one level batch: batch-store fills store.db.batch() and writes it.)
  const batch = store.db.batch.bind(store.db)
  let release = (): void => {}
  const gate = new Promise<void>((r) => { release = r })
  let calls = 0
  store.db.batch = () => {
    const lb = batch()
    const write = lb.write
    const call = ++calls
    lb.write = async (): Promise<void> => {
      if (call === 1) { await gate; return write() }
      await write()
      release()
    }
    return lb
  }
  await Promise.all([store.batches.write(spanning(1, 5_000_000)), store.batches.write(spanning(2, 10_000_000))])
  t.equal(calls, 2)
  t.equal(store.batches.maxSegmentSpanUs, 10_000_000)
  await store.close()
  const again = new CollectorStore({ dataDir: dir, sync: false })
  await again.open()
  t.teardown(() => again.close())
  t.equal(again.batches.maxSegmentSpanUs, 10_000_000, 'flow span after a restart')
  t.equal(again.batches.maxAppSegmentSpanUs, 10_000_000, 'app-record span after a restart')
})

t.test('a store written before span keys (one value per span) loads, and grows past it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-span-old-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = new CollectorStore({ dataDir: dir, sync: false })
  await store.open()
  await store.db.write([{ type: 'put', key: keys.meta('max_segment_span_us'), value: u64(7_000_000) }, { type: 'put', key: keys.meta('max_app_span_us'), value: u64(3_000_000) }])
  await store.close()
  const old = new CollectorStore({ dataDir: dir, sync: false })
  await old.open()
  t.equal(old.batches.maxSegmentSpanUs, 7_000_000)
  t.equal(old.batches.maxAppSegmentSpanUs, 3_000_000)
  await old.batches.write(spanning(1, 2_000_000))
  t.equal(old.batches.maxSegmentSpanUs, 7_000_000, 'a smaller span changes nothing')
  await old.batches.write(spanning(2, 9_000_000))
  await old.close()
  const grown = new CollectorStore({ dataDir: dir, sync: false })
  await grown.open()
  t.teardown(() => grown.close())
  t.equal(grown.batches.maxSegmentSpanUs, 9_000_000)
  t.equal(grown.batches.maxAppSegmentSpanUs, 9_000_000)
})
