// POST /api/v1/ingest through app.inject(): every answer and every refusal, durability
// bookkeeping (dedup, one copy stored), counters, and a gzip bomb in bounded memory.
import { rmSync } from 'node:fs'
import t from 'tap'
import { createGzip } from 'node:zlib'
import { AgentStats, Batch, decodeAck, encodeBatch, GapKind, GapReason, PROTOCOL_VERSION } from '../protocol/index.js'
import { ADMIN, batch, enrollAgent, flow, gz, post, startCollector } from './collector-fixtures.js'

const GZ = { 'content-encoding': 'gzip' }

async function storedFlows(c: Awaited<ReturnType<typeof startCollector>>): Promise<string[]> {
  const uids: string[] = []
  for await (const s of c.store.batches.flowSegments()) for (const f of Batch.decode(s.bytes).flows) uids.push(f.uid ?? '')
  return uids
}

t.test('a batch is stored whole and acked; the stored flows are the sent ones', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const b = batch(a.agentId, 1, 500)
  const r = await post(c, a.secret, gz(b), GZ)
  t.equal(r.statusCode, 200)
  t.equal(r.headers['content-type'], 'application/x-protobuf')
  const ack = decodeAck(r.rawPayload)
  t.same({ agentId: ack.agentId, epoch: ack.epoch, seq: ack.seq, duplicate: ack.duplicate, v: ack.protocolVersion }, { agentId: a.agentId, epoch: 1, seq: 1, duplicate: false, v: PROTOCOL_VERSION })
  t.ok(Math.abs(ack.serverTimeUs / 1000 - Date.now()) < 60_000, 'server time in µs')
  t.same(await storedFlows(c), b.flows!.map((f) => f.uid ?? ''))
  // identity encoding too
  const r2 = await post(c, a.secret, encodeBatch(batch(a.agentId, 2, 10)))
  t.equal(r2.statusCode, 200)
  t.equal((await storedFlows(c)).length, 510)
  const agent = await c.store.agents.get(a.agentId)
  t.match(agent, { batches: 2, flows: 510, lastBatch: { epoch: 1, seq: 2 } })
  t.equal(c.ingest.counters.get('ingest_flows_total'), 510)
})

t.test('indexes: flows of a host and of a service come back from the postings', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const b = batch(a.agentId, 1, 100)
  t.equal((await post(c, a.secret, gz(b), GZ)).statusCode, 200)
  const server = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 3])
  const hits: number[] = []
  for await (const p of c.store.flows.postingsStream({ kind: 'host', addr16: server }, 0, Number.MAX_SAFE_INTEGER)) hits.push(...p.indexes)
  t.same(hits, b.flows!.map((f, i) => ({ f, i })).filter(({ f }) => (f.respH as Buffer)[3] === 3).map(({ i }) => i))
  const ssh: number[] = []
  for await (const p of c.store.batches.flowsOfService('ssh')) ssh.push(...p.indexes)
  t.same(ssh, b.flows!.map((f, i) => ({ f, i })).filter(({ f }) => f.service === 'ssh').map(({ i }) => i))
})

t.test('events, observations, gaps, stats and inventory are stored with the batch', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const b = batch(a.agentId, 1, 3, {
    events: [{ timestampMs: 1_700_000_000_123, eventDataset: 'sshd', message: 'Accepted password' }],
    hostObservations: [{ tsUs: 1_700_000_000_000_000, ip: Buffer.from([10, 0, 0, 9]), name: 'printer', nameSource: 1 }],
    gaps: [{ kind: GapKind.GAP_KIND_FLOWS, count: 1234, reason: GapReason.GAP_REASON_SPOOL_FULL, firstTsUs: 1, lastTsUs: 2 }],
    stats: { version: '9.9.9', uptimeS: 42, anomalies: { truncated_ip: 3 } },
    inventory: { os: { distro: 'Debian', kernel: '6.1' }, interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', addresses: ['10.0.0.5/24'] }] },
  })
  t.equal((await post(c, a.secret, gz(b), GZ)).statusCode, 200)
  const agent = await c.store.agents.get(a.agentId)
  t.match(agent, { events: 1, observations: 1, version: '9.9.9', gapRecords: { flows: 1234, events: 0 } })
  const stats = AgentStats.decode((await c.store.agents.latestStats(a.agentId))!)
  t.same(stats.anomalies, { truncated_ip: 3 })
  t.ok(await c.store.agents.latestInventory(a.agentId), 'inventory stored')
  const gaps: number[] = []
  for await (const g of c.store.batches.gapsOf(a.agentId)) for (const x of Batch.decode(g).gaps) gaps.push(x.count ?? 0)
  t.same(gaps, [1234])
  let events = 0
  for await (const s of c.store.batches.eventSegments()) events += Batch.decode(s).events.length
  t.equal(events, 1)
})

t.test('several events, observations and gaps after the flows are each stored once', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const b = batch(a.agentId, 1, 4, {
    events: [0, 1, 2].map((i) => ({ timestampMs: 1_700_000_000_000 + i, eventDataset: 'sshd', message: `m${i}` })),
    hostObservations: [0, 1, 2].map((i) => ({ tsUs: 1_700_000_000_000_000 + i, ip: Buffer.from([10, 0, 0, i]), name: `h${i}`, nameSource: 1 })),
    gaps: [0, 1, 2].map((i) => ({ kind: GapKind.GAP_KIND_FLOWS, count: 10 + i, reason: GapReason.GAP_REASON_QUEUE_FULL })),
  })
  t.equal((await post(c, a.secret, gz(b), GZ)).statusCode, 200)
  const events: string[] = []
  for await (const s of c.store.batches.eventSegments()) for (const e of Batch.decode(s).events) events.push(e.message ?? '')
  t.same(events, ['m0', 'm1', 'm2'], 'a run of entries is not stretched by the rest run it starts')
  const names: string[] = []
  for await (const s of c.store.batches.observationSegments()) for (const o of Batch.decode(s).hostObservations) names.push(o.name ?? '')
  t.same(names, ['h0', 'h1', 'h2'])
  const gaps: number[] = []
  for await (const g of c.store.batches.gapsOf(a.agentId)) for (const x of Batch.decode(g).gaps) gaps.push(x.count ?? 0)
  t.same(gaps, [10, 11, 12])
})

t.test('a batch already stored is acked as duplicate and stored once (also when concurrent)', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const body = gz(batch(a.agentId, 7, 50))
  const first = await post(c, a.secret, body, GZ)
  t.equal(decodeAck(first.rawPayload).duplicate, false)
  const again = await post(c, a.secret, body, GZ)
  t.equal(again.statusCode, 200)
  t.equal(decodeAck(again.rawPayload).duplicate, true)
  const body2 = gz(batch(a.agentId, 8, 50))
  const rs = await Promise.all([1, 2, 3, 4].map(() => post(c, a.secret, body2, GZ)))
  t.same(rs.map((r) => r.statusCode), [200, 200, 200, 200])
  t.equal(rs.filter((r) => !decodeAck(r.rawPayload).duplicate).length, 1, 'exactly one copy applied')
  t.equal((await storedFlows(c)).length, 100)
  let batches = 0
  for await (const _ of c.store.batches.batchRecords()) batches++
  t.equal(batches, 2)
  t.equal(c.ingest.counters.get('ingest_duplicates_total'), 4)
  // The same seq in another epoch is another batch.
  t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, 7, 5, {}, 2)), GZ)).rawPayload).duplicate, false)
})

t.test('duplicates are found after a restart and out of order; a new (epoch, seq) needs no dedup read', async (t) => {
  let c = await startCollector()
  const dir = c.dir
  const a = await enrollAgent(c)
  // Out of order within an agent: 3 before 2.
  for (const seq of [1, 3, 2, 5]) t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, seq, 5)), GZ)).rawPayload).duplicate, false, `seq ${seq} new`)
  t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, 2, 5)), GZ)).rawPayload).duplicate, true, 'seq 2 again: duplicate')
  await c.app.close()
  c = await startCollector({}, dir)
  t.teardown(async () => { await c.close(); rmSync(dir, { recursive: true, force: true }) })
  // After the restart the highest stored pair comes from the store: retries below it are read.
  for (const seq of [1, 3, 5]) t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, seq, 5)), GZ)).rawPayload).duplicate, true, `seq ${seq} after restart: duplicate`)
  t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, 4, 5)), GZ)).rawPayload).duplicate, false, 'seq 4 never stored: new')
  const reads: string[] = []
  const get = c.store.db.get.bind(c.store.db)
  c.store.db.get = async (k: Buffer) => { reads.push(k.subarray(0, 2).toString('latin1')); return get(k) }
  t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, 6, 5)), GZ)).rawPayload).duplicate, false)
  t.notOk(reads.includes('dd'), 'seq 6 is above every stored pair: no dedup read')
  t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, 6, 5)), GZ)).rawPayload).duplicate, true, 'and its retry is a duplicate')
  t.ok(reads.includes('dd'), 'found by the dedup read')
  t.equal(decodeAck((await post(c, a.secret, gz(batch(a.agentId, 1, 5, {}, 2)), GZ)).rawPayload).duplicate, false, 'a new epoch is new')
  t.equal((await storedFlows(c)).length, 35)
})

t.test('refusals: precise status and code, counted per reason', async (t) => {
  const c = await startCollector({ 'ingest.max_flows_per_batch': 1000, 'ingest.max_entries_per_batch': 5000, 'ingest.max_body_bytes': 256 * 1024 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const good = encodeBatch(batch(a.agentId, 1, 20))
  const cases: [string, () => ReturnType<typeof post>, number, string][] = [
    ['wrong content type', () => c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'application/json', authorization: `Bearer ${a.secret}` }, payload: '{}' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', () => c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${a.secret}` }, payload: Buffer.from(good) }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['unsupported encoding', () => post(c, a.secret, good, { 'content-encoding': 'br' }), 415, 'UNSUPPORTED_ENCODING'],
    ['no credential', () => post(c, undefined, good), 401, 'MISSING_CREDENTIAL'],
    ['unknown credential', () => post(c, 'tt_agent_nobody', good), 401, 'UNKNOWN_AGENT'],
    ['admin token is not an agent', () => post(c, ADMIN, good), 403, 'FORBIDDEN_ROLE'],
    ['random bytes', () => post(c, a.secret, Buffer.from('\u00ff\u00ff\u00ff\u00ff\u00ff garbage', 'latin1')), 400, 'MALFORMED_BATCH'],
    ['truncated protobuf', () => post(c, a.secret, good.subarray(0, good.length - 7)), 400, 'MALFORMED_BATCH'],
    ['not gzip', () => post(c, a.secret, good, GZ), 400, 'BAD_GZIP'],
    ['empty body', () => post(c, a.secret, new Uint8Array(0)), 400, 'EMPTY_BODY'],
    ['version mismatch', () => post(c, a.secret, encodeBatch({ ...batch(a.agentId, 1, 1), protocolVersion: PROTOCOL_VERSION + 1 })), 400, 'PROTOCOL_VERSION'],
    ['other agent', () => post(c, a.secret, encodeBatch(batch('agt_someone_else', 1, 1))), 403, 'AGENT_MISMATCH'],
    ['seq 0', () => post(c, a.secret, encodeBatch(batch(a.agentId, 0, 1))), 400, 'BATCH_IDENTITY'],
    ['too many flows', () => post(c, a.secret, gz(batch(a.agentId, 3, 1001)), GZ), 413, 'TOO_MANY_FLOWS'],
    ['huge repeated field', () => post(c, a.secret, gz({ ...batch(a.agentId, 4, 0), events: Array.from({ length: 6000 }, () => ({})) }), GZ), 413, 'TOO_MANY_FLOWS'],
    ['body over the limit', () => post(c, a.secret, Buffer.alloc(300 * 1024, 1)), 413, 'BODY_TOO_LARGE'],
    // Stored, they would lie outside every query's window (0..2^53-1 µs).
    ['a negative flow time', () => post(c, a.secret, encodeBatch({ ...batch(a.agentId, 5, 0), flows: [{ ...flow(1), tsUs: -5 }] })), 400, 'MALFORMED_BATCH'],
    ['a flow time past 2^53 µs', () => post(c, a.secret, encodeBatch({ ...batch(a.agentId, 6, 0), flows: [{ ...flow(1), tsUs: 2 ** 62 }] })), 400, 'MALFORMED_BATCH'],
  ]
  for (const [name, send, status, code] of cases) {
    const r = await send()
    t.equal(r.statusCode, status, `${name}: status`)
    const body = r.json() as { code: string; message: string; statusCode: number }
    t.equal(body.code, `COLLECTOR_ERR_${code}`, `${name}: code`)
    t.equal(body.statusCode, status)
    t.ok(body.message.length > 10, `${name}: message "${body.message}"`)
    if (code === 'PROTOCOL_VERSION') t.match(body.message, new RegExp(`version ${PROTOCOL_VERSION + 1}.*versions 1 to ${PROTOCOL_VERSION}`), 'names both versions')
    if (name.includes('flow time')) t.match(body.message, /flow 0: ts_us (-5|4611686018427387904) is outside 0\.\.9007199254740991 µs/, 'names the flow and its time')
  }
  t.equal(c.ingest.counters.get('ingest_rejected_total'), cases.length)
  t.equal(c.ingest.counters.get('ingest_rejected_malformed_batch_total'), 4)
  t.equal(c.ingest.counters.get('ingest_rejected_unsupported_media_type_total'), 2)
  t.equal(c.ingest.counters.get('ingest_batches_total'), 0, 'nothing stored')
  t.equal((await post(c, a.secret, good)).statusCode, 200, 'still serving')
})

t.test('a revoked agent is refused with 403', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 1, 1)), GZ)).statusCode, 200)
  const d = await c.app.inject({ method: 'DELETE', url: `/api/v1/agents/${a.agentId}`, headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(d.statusCode, 200)
  const r = await post(c, a.secret, gz(batch(a.agentId, 2, 1)), GZ)
  t.equal(r.statusCode, 403)
  t.equal((r.json() as { code: string }).code, 'COLLECTOR_ERR_REVOKED_AGENT')
})

t.test('a gzip bomb is a 413 and memory stays bounded by the decompression cap', async (t) => {
  const cap = 8 * 1024 * 1024
  const c = await startCollector({ 'ingest.max_decompressed_bytes': cap, 'ingest.max_body_bytes': 4 * 1024 * 1024 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  // 1 GiB of zeros → ~1 MiB of gzip, built in a stream (never 1 GiB in memory here).
  const bomb = await new Promise<Buffer>((resolve, reject) => {
    const z = createGzip({ level: 9 })
    const parts: Buffer[] = []
    z.on('data', (d: Buffer) => parts.push(d)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject)
    const zero = Buffer.alloc(1024 * 1024)
    let left = 1024
    const pump = (): void => { while (left > 0) { left--; if (!z.write(zero)) { z.once('drain', pump); return } } z.end() }
    pump()
  })
  t.ok(bomb.length < 2 * 1024 * 1024, `bomb is ${bomb.length} bytes`)
  const before = process.memoryUsage()
  let peak = 0
  const timer = setInterval(() => { const m = process.memoryUsage(); peak = Math.max(peak, m.arrayBuffers + m.heapUsed - before.arrayBuffers - before.heapUsed) }, 1)
  const r = await post(c, a.secret, bomb, GZ)
  clearInterval(timer)
  t.equal(r.statusCode, 413)
  t.equal((r.json() as { code: string }).code, 'COLLECTOR_ERR_DECOMPRESSED_TOO_LARGE')
  t.ok(peak < 128 * 1024 * 1024, `peak extra memory ${Math.round(peak / 1048576)} MiB while inflating a 1 GiB bomb with an 8 MiB cap`)
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 1, 5)), GZ)).statusCode, 200, 'still serving')
})

t.test('rejections are logged at most once per agent and code per minute', async (t) => {
  const { RateLimitedLog } = await import('../collector/util/rate-limited-log.js')
  const rl = new RateLimitedLog(60_000, 2)
  const logged: number[] = []
  for (let i = 0; i < 5; i++) rl.hit('a', (s) => logged.push(s), 1000 + i)
  rl.hit('a', (s) => logged.push(s), 62_000)
  t.same(logged, [0, 4], 'one line, then one with the 4 suppressed')
  rl.hit('b', () => undefined, 62_000)
  rl.hit('c', () => undefined, 62_000)
  t.ok(rl.hit('a', () => undefined, 62_001), 'the table is bounded: the oldest key was forgotten')
})
