// fast-check: hostile ingest bodies never get a 5xx or a stored batch, and the scanner
// agrees with the generated decoder on every body both accept.
import t from 'tap'
import fc from 'fast-check'
import { gunzipSync, gzipSync } from 'node:zlib'
import { Batch, batchFlows, encodeBatch, encodeShippedBatch } from '../protocol/index.js'
import { scanBatch } from '../collector/ingest/batch-scan.js'
import { batch, enrollAgent, post, startCollector } from './collector-fixtures.js'

t.test('random bytes and mutated batches: 4xx or a correct store, never 5xx', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const good = encodeBatch(batch(a.agentId, 1, 30))
  let seq = 1000
  let accepted = 0
  await fc.assert(fc.asyncProperty(
    fc.oneof(
      fc.uint8Array({ maxLength: 4096 }),
      fc.tuple(fc.nat(good.length - 1), fc.nat(255), fc.nat(good.length)).map(([at, v, cut]) => { const b = Buffer.from(good); b[at] = v; return b.subarray(0, Math.max(at + 1, cut)) }),
    ),
    fc.boolean(),
    async (bytes, gzip) => {
      const r = await post(c, a.secret, gzip ? gzipSync(bytes) : bytes, gzip ? { 'content-encoding': 'gzip' } : {})
      if (r.statusCode >= 500) return false
      if (r.statusCode === 200) accepted++
      return r.statusCode === 200 || (r.statusCode >= 400 && r.statusCode < 500 && typeof (r.json() as { code?: string }).code === 'string')
    },
  ), { numRuns: 300, seed: 0x7e11 })
  t.pass(`${accepted} mutated bodies were still valid batches and were stored`)
  // Still serving.
  t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, ++seq, 3)))).statusCode, 200)
})

t.test('scanBatch never throws and agrees with Batch.decode on flow counts', async (t) => {
  const good = encodeBatch(batch('agt_x', 1, 20))
  fc.assert(fc.property(
    fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.tuple(fc.nat(good.length - 1), fc.nat(255)).map(([at, v]) => { const b = Buffer.from(good); b[at] = v; return b })),
    (bytes) => {
      const s = scanBatch(Buffer.from(bytes), { maxFlows: 1000, maxEntries: 10_000 })
      if (!s.ok) return true
      let decoded: Batch
      try { decoded = Batch.decode(bytes) } catch { return true } // the scanner may be more lenient on fields it skips
      return decoded.flows.length === s.flows.count
    },
  ), { numRuns: 2000, seed: 0x7e12 })
  t.pass('no throw, counts agree')
})

t.test('version 2 (flow chunks): mutated chunked batches never throw in the scanner; counts agree when both accept', async (t) => {
  const good = gunzipSync(encodeShippedBatch(batch('agt_x', 1, 300)))
  let accepted = 0
  fc.assert(fc.property(
    fc.tuple(fc.nat(good.length - 1), fc.nat(255), fc.nat(good.length)).map(([at, v, cut]) => { const b = Buffer.from(good); b[at] = v; return b.subarray(0, Math.max(at + 1, cut)) }),
    (bytes) => {
      const s = scanBatch(Buffer.from(bytes), { maxFlows: 1000, maxEntries: 10_000, maxInflatedBytes: 1 << 20 })
      if (!s.ok) return true
      accepted++
      let flows: number
      try { flows = batchFlows(Batch.decode(bytes)).length } catch { return true }
      return flows === s.flows.count && Batch.decode(s.flowSegment).flows.length === flows
    },
  ), { numRuns: 1500, seed: 0x7e13 })
  t.ok(accepted > 0, `${accepted} mutated chunked batches still scanned`)
})
