// The topology merge follows the store instead of holding the ack: a burst of ingest is
// acked while the merge is behind, the merge reads the batches it could not queue back from
// the store, and ends with the same topology as a merge that kept up. Topology reads wait
// (bounded by topology.read_wait_ms) for what was acked before them.
import t from 'tap'
import { encodeBatch } from '../protocol/index.js'
import { ADMIN, batch, enrollAgent, post, startCollector, topologyTotals } from './collector-fixtures.js'

const auth = { authorization: `Bearer ${ADMIN}` }

t.test('a burst is acked while the merge is behind; the merge catches up from the store to the same topology', async (t) => {
  // A queue of one batch and a merge that yields every 128 flows: four agents' batches
  // arrive faster than they merge.
  const burst = await startCollector({ 'topology.queue_batches': 1, 'topology.merge_slice_ms': 0 })
  const steady = await startCollector()
  t.teardown(async () => { await burst.close(); await steady.close() })
  const agents = [] as Array<{ agentId: string; secret: string }>
  for (let m = 1; m <= 4; m++) agents.push(await enrollAgent(burst, m, `nonce-burst-0123456789-${m}`))
  const steadyAgents = [] as Array<{ agentId: string; secret: string }>
  for (let m = 1; m <= 4; m++) steadyAgents.push(await enrollAgent(steady, m, `nonce-burst-0123456789-${m}`))
  const acked = await Promise.all(agents.map(async (a, k) => {
    let n = 0
    for (let seq = 1; seq <= 6; seq++) if ((await post(burst, a.secret, encodeBatch(batch(a.agentId, seq + k * 10, 2000)))).statusCode === 200) n++
    return n
  }))
  t.same(acked, [6, 6, 6, 6], 'every batch acked')
  const topo = burst.api.topology
  t.ok(topo.counters.batches_deferred > 0, `the merge fell behind (${topo.counters.batches_deferred} batches deferred)`)
  for (const [k, a] of steadyAgents.entries()) {
    for (let seq = 1; seq <= 6; seq++) t.equal((await post(steady, a.secret, encodeBatch(batch(a.agentId, seq + k * 10, 2000)))).statusCode, 200)
  }
  const x = await topologyTotals(burst)
  t.ok(topo.counters.batches_caught_up > 0, `batches read back from the store (${topo.counters.batches_caught_up})`)
  t.equal(topo.counters.batches_merged, 24, 'every batch merged once')
  t.equal(topo.backlog, 0)
  t.same(topo.mergeMarks, { watermark: 24, above: 0 })
  t.equal(x.unique, 48_000)
  t.same(x, await topologyTotals(steady), 'the same hosts, edges, unique flows and bytes as a merge that kept up')
})

t.test('a topology read waits for the batches acked before it, or says how many it misses', async (t) => {
  const c = await startCollector({ 'topology.merge_slice_ms': 0 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  // Ingest resolves (the ack) once the batch is durable; the merge has not begun.
  await c.ingest.ingest((await c.store.agents.get(a.agentId))!, Buffer.from(encodeBatch(batch(a.agentId, 1, 6000))))
  t.equal(c.api.topology.backlog, 1, 'acked before merged')
  const r = await c.app.inject({ method: 'GET', url: '/api/v1/stats', headers: auth })
  t.equal(r.statusCode, 200)
  t.equal(r.headers['x-topology-backlog-batches'], undefined, 'caught up within read_wait_ms')
  t.equal((r.json() as { unique_flows: number }).unique_flows, 6000, 'the answer holds the acked batch')

  // read_wait_ms 0, and a merge of 50000 flows yielding every 128 of them: still running when the read comes.
  const impatient = await startCollector({ 'topology.merge_slice_ms': 0, 'topology.read_wait_ms': 0 })
  t.teardown(() => impatient.close())
  const b = await enrollAgent(impatient, 1)
  await impatient.ingest.ingest((await impatient.store.agents.get(b.agentId))!, Buffer.from(encodeBatch(batch(b.agentId, 1, 50_000))))
  const early = await impatient.app.inject({ method: 'GET', url: '/api/v1/hosts?limit=1', headers: auth })
  t.equal(early.statusCode, 200)
  t.equal(early.headers['x-topology-backlog-batches'], '1', 'the answer says it misses one acked batch')
  await impatient.api.topology.idle()
  const later = await impatient.app.inject({ method: 'GET', url: '/api/v1/hosts?limit=1', headers: auth })
  t.equal(later.headers['x-topology-backlog-batches'], undefined)
})

t.test('/topology serves a cached answer within its staleness bound without waiting for the merge, and says what it misses', async (t) => {
  // read_wait_ms and answer_max_staleness_ms have their defaults (2 s); the merge yields every 128 flows.
  const c = await startCollector({ 'topology.merge_slice_ms': 0 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const agent = (await c.store.agents.get(a.agentId))!
  await c.ingest.ingest(agent, Buffer.from(encodeBatch(batch(a.agentId, 1, 100))))
  const first = await c.app.inject({ method: 'GET', url: '/api/v1/topology?limit=5', headers: auth })
  t.equal(first.headers['x-topology-backlog-batches'], undefined, 'a build waited for the acked batch')
  t.ok((first.json() as { edges: unknown[] }).edges.length > 0)
  await c.ingest.ingest(agent, Buffer.from(encodeBatch(batch(a.agentId, 2, 6000))))
  t.equal(c.api.topology.backlog, 1)
  const cached = await c.app.inject({ method: 'GET', url: '/api/v1/topology?limit=5', headers: auth })
  t.equal(cached.statusCode, 200)
  t.equal(cached.headers['x-topology-backlog-batches'], '1', 'the cached answer at once, while the merge still runs, saying it misses one acked batch')
  t.equal(cached.body, first.body)
  t.equal(cached.headers['x-topology-current'], 'false', 'not current: acked batches are missing')
  // A query with no cached answer is built, so it waits for what was acked.
  const fresh = await c.app.inject({ method: 'GET', url: '/api/v1/topology?limit=6', headers: auth })
  t.equal(fresh.headers['x-topology-backlog-batches'], undefined)
  t.equal(fresh.headers['x-topology-current'], 'true')
  t.equal(c.api.topology.backlog, 0, 'the build came after the merge')
})
