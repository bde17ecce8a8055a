// Protocol version 2 at the collector: flows as `flow_chunks` (the agent's raw DEFLATE runs of
// 256 `flows` entries) are checked, indexed, and stored as the agent compressed them; chunks
// cut elsewhere are stored re-chunked; bad chunks are refused with a precise 4xx and nothing
// is stored; version 1 batches are still read.
import t from 'tap'
import { deflateRawSync, gzipSync } from 'node:zlib'
import { Batch, decodeAck, deflateFlowRunsSync, encodeBatch, encodeShippedBatch, flowChunkEntries, flowRuns, PROTOCOL_VERSION, type BatchProperties } from '../protocol/index.js'
import { KEY_PREFIX, prefixRange } from '../collector/storage/keys.js'
import { batch, enrollAgent, flow, post, startCollector, type TestCollector } from './collector-fixtures.js'

const GZ = { 'content-encoding': 'gzip' }

async function storedUids(c: TestCollector): Promise<string[]> {
  const uids: string[] = []
  for await (const s of c.store.batches.flowSegments()) for (const f of Batch.decode(s.bytes).flows) uids.push(f.uid ?? '')
  return uids
}

async function chunkValues(c: TestCollector): Promise<Buffer[]> {
  const out: Buffer[] = []
  for await (const [, v] of c.store.db.entries(prefixRange(KEY_PREFIX.flowSegment))) out.push(Buffer.from(v))
  return out
}

/** A version-2 body whose flow_chunks are the given runs' DEFLATE (runs cut by the caller). */
function chunkedBody(b: BatchProperties, chunks: Uint8Array[], extra: Uint8Array = new Uint8Array(0)): Buffer {
  const rest = encodeBatch({ ...b, flows: [], protocolVersion: PROTOCOL_VERSION })
  return gzipSync(Buffer.concat([flowChunkEntries(chunks), rest, extra]))
}

t.test('chunks from the agent are stored byte for byte and indexed', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const b = batch(a.agentId, 1, 600)
  const agentChunks = deflateFlowRunsSync(flowRuns(b.flows!), 6)
  t.equal(agentChunks.length, 3, '600 flows: chunks of 256, 256, 88')
  const r = await post(c, a.secret, chunkedBody(b, agentChunks), GZ)
  t.equal(r.statusCode, 200, r.body)
  t.equal(decodeAck(r.rawPayload).protocolVersion, PROTOCOL_VERSION)
  t.same(await storedUids(c), b.flows!.map((f) => f.uid ?? ''), 'every flow, in order')
  t.same(await chunkValues(c), agentChunks.map((z) => Buffer.concat([Buffer.from([1]), z])), 'stored values: the DEFLATE codec byte + the agent\'s bytes')
  const server = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 3])
  const hits: number[] = []
  for await (const p of c.store.flows.postingsStream({ kind: 'host', addr16: server }, 0, Number.MAX_SAFE_INTEGER)) hits.push(...p.indexes)
  t.same(hits, b.flows!.map((f, i) => ({ f, i })).filter(({ f }) => (f.respH as Buffer)[3] === 3).map(({ i }) => i), 'host index from the inflated flows')
  t.match(await c.store.agents.get(a.agentId), { flows: 600 })
  // The same batch again: a duplicate, not stored twice.
  const again = await post(c, a.secret, encodeShippedBatch(b), GZ)
  t.equal(again.statusCode, 200)
  t.equal(decodeAck(again.rawPayload).duplicate, true)
  t.equal((await storedUids(c)).length, 600)
})

t.test('chunks cut at other boundaries are re-chunked; version 1 batches still read', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const b = batch(a.agentId, 1, 300)
  const runs = [0, 100, 200].map((i) => flowRuns(b.flows!.slice(i, i + 100))[0]!)
  t.equal((await post(c, a.secret, chunkedBody(b, deflateFlowRunsSync(runs, 1)), GZ)).statusCode, 200)
  t.same(await storedUids(c), b.flows!.map((f) => f.uid ?? ''))
  t.equal((await chunkValues(c)).length, 2, 'stored as 256 + 44')
  const v1 = batch(a.agentId, 2, 10, { protocolVersion: 1 })
  t.equal((await post(c, a.secret, gzipSync(encodeBatch(v1)), GZ)).statusCode, 200, 'version 1')
  t.equal((await storedUids(c)).length, 310)
})

t.test('bad chunks: a precise 4xx and nothing stored', async (t) => {
  const c = await startCollector({ 'ingest.max_decompressed_bytes': 4 * 1024 * 1024, 'ingest.max_body_bytes': 1024 * 1024 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const b = batch(a.agentId, 1, 20)
  const good = deflateFlowRunsSync(flowRuns(b.flows!), 6)
  const event = encodeBatch({ events: [{ message: 'x' }] })
  const cases: Array<[string, Buffer, number, string, RegExp]> = [
    ['flows and flow_chunks', chunkedBody(b, good, encodeBatch({ flows: [flow(99)] })), 400, 'MALFORMED_BATCH', /both flows and flow_chunks/],
    ['not DEFLATE', chunkedBody(b, [Buffer.from('not deflate at all, really')]), 400, 'MALFORMED_BATCH', /flow chunk 0 is not raw DEFLATE/],
    ['an event inside a chunk', chunkedBody(b, [deflateRawSync(Buffer.concat([flowRuns(b.flows!)[0]!, event]))]), 400, 'MALFORMED_BATCH', /flow chunk 0 holds something other than flows/],
    ['a truncated flow in a chunk', chunkedBody(b, [deflateRawSync(flowRuns(b.flows!)[0]!.subarray(0, 50))]), 400, 'MALFORMED_BATCH', /truncated/],
    ['a DEFLATE bomb', chunkedBody(b, [deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })]), 413, 'DECOMPRESSED_TOO_LARGE', /inflate to more than 4194304 bytes/],
    ['flow_chunks with the wrong wire type', gzipSync(Buffer.concat([encodeBatch({ ...b, flows: [] }), Buffer.from([13 << 3, 1])])), 400, 'MALFORMED_BATCH', /flow_chunks entry with wire type 0/],
  ]
  for (const [name, body, status, code, re] of cases) {
    t.ok(body.length < 200_000, `${name}: ${body.length} bytes on the wire`)
    const r = await post(c, a.secret, body, GZ)
    t.equal(r.statusCode, status, name)
    const j = r.json() as { code: string; message: string }
    t.equal(j.code, `COLLECTOR_ERR_${code}`, name)
    t.match(j.message, re, name)
  }
  t.same(await storedUids(c), [], 'nothing stored')
  t.equal((await post(c, a.secret, chunkedBody(b, good), GZ)).statusCode, 200, 'the good batch with the same seq is then accepted')
  t.equal((await storedUids(c)).length, 20)
})

t.test('chunks that inflate far more than an agent\'s are inflated on the pool, not the event loop', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  // 12,000 copies of one flow compress ~50×: legitimate, and past the loop's 16× budget.
  const same = flow(1)
  const b = batch(a.agentId, 1, 0, { flows: Array.from({ length: 12_000 }, () => same) })
  const body = encodeShippedBatch(b)
  const r = await post(c, a.secret, body, GZ)
  t.equal(r.statusCode, 200, r.body)
  t.equal(c.ingest.counters.get('ingest_chunks_inflated_on_pool_total'), 1, 'inflated on the pool')
  t.equal((await storedUids(c)).length, 12_000)
  t.equal((await chunkValues(c)).length, Math.ceil(12_000 / 256), 'and stored as the agent compressed them')
  // 8 MiB of zeros in one chunk: inflated on the pool (under the 64 MiB cap), then refused.
  const bomb = chunkedBody(batch(a.agentId, 2, 0), [deflateRawSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 })])
  const r2 = await post(c, a.secret, bomb, GZ)
  t.equal(r2.statusCode, 400)
  t.match((r2.json() as { message: string }).message, /flow chunk 0 holds something other than flows/)
  t.equal(c.ingest.counters.get('ingest_chunks_inflated_on_pool_total'), 2)
})
