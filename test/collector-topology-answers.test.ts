// /api/v1/topology stale-while-revalidate: an answer never misses a change older than the
// staleness bound, a change becomes visible within it, background rebuilds are bounded, the
// sliced build gives exactly the synchronous selection (also across a model reset), and the
// route says how current each answer is.
import t from 'tap'
import fc from 'fast-check'
import { TopologyAnswers, type Answer } from '../collector/topology/topology-answers.js'
import { buildTopologyAnswer, Slicer } from '../collector/topology/topology-build.js'
import { TopologyModel } from '../collector/topology/topology-model.js'
import { selectTopology, type TopologyQuery } from '../collector/topology/topology-view.js'
import { edgeId, type EdgeRecord, type HostRecord } from '../collector/topology/types.js'
import { ADMIN, batch, enrollAgent, post, startCollector } from './collector-fixtures.js'
import { encodeBatch } from '../protocol/index.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

t.test('answers: current, stale within the bound, background refresh, wait beyond the bound', async (t) => {
  let now = 10_000
  let gen = 0
  let builds = 0
  const answers = new TopologyAnswers({ maxStalenessMs: 2000, refreshMs: 1000, maxEntries: 4, now: () => now }, () => gen)
  const build = async (): Promise<Answer> => {
    const a: Answer = { body: Buffer.from(String(gen)), type: 'text/plain', generation: gen, asOfMs: now }
    builds++
    await tick()
    return a
  }
  let s = await answers.get('k', build)
  t.equal(s.how, 'built'); t.equal(builds, 1)
  s = await answers.get('k', build)
  t.equal(s.how, 'current'); t.equal(builds, 1, 'no change: no build')
  gen++; now += 500
  s = await answers.get('k', build)
  t.equal(s.how, 'stale'); t.equal(s.answer.generation, 0); t.equal(builds, 1, 'younger than refreshMs: no rebuild')
  now += 600 // age 1100 ≥ refresh
  s = await answers.get('k', build)
  t.equal(s.how, 'stale'); t.equal(s.answer.generation, 0)
  s = await answers.get('k', build)
  t.equal(s.how, 'stale', 'one background build per key at a time')
  await tick(); await tick(); await tick()
  t.equal(builds, 2)
  s = await answers.get('k', build)
  t.equal(s.how, 'current'); t.equal(s.answer.generation, 1); t.equal(s.answer.asOfMs, now)
  gen++; now += 2001
  s = await answers.get('k', build)
  t.equal(s.how, 'built', 'older than the bound: waits'); t.equal(s.answer.generation, 2); t.equal(answers.counters.builds, 3)
  for (const k of ['a', 'b', 'c', 'd']) await answers.get(k, build)
  t.equal(answers.size, 4, 'bounded entries')
  const failing = new TopologyAnswers({ maxStalenessMs: 2000, refreshMs: 1000, maxEntries: 4, now: () => now }, () => gen)
  await t.rejects(failing.get('x', async () => { throw new Error('boom') }))
  t.equal((await failing.get('x', build)).how, 'built', 'a failed build is not cached')
})

t.test('answers (property): never misses a change older than the bound; changes visible within it', async (t) => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
    fc.record({ kind: fc.constant('change' as const), ms: fc.constant(0) }),
    fc.record({ kind: fc.constant('request' as const), ms: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('settle' as const), ms: fc.constant(0) }),
    // Lets queued builds start (read the clock and generation) without finishing them.
    fc.record({ kind: fc.constant('microtasks' as const), ms: fc.constant(0) }),
  )
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 }), async (steps, bound, refreshRaw) => {
    let now = 1_000_000
    let gen = 0
    const changedAt: number[] = [] // changedAt[g - 1] = when generation g appeared
    const answers = new TopologyAnswers({ maxStalenessMs: bound, refreshMs: Math.min(refreshRaw, bound), maxEntries: 2, now: () => now }, () => gen)
    const build = async (): Promise<Answer> => {
      const a: Answer = { body: Buffer.alloc(0), type: 'x', generation: gen, asOfMs: now }
      await tick()
      return a
    }
    const pending: Promise<void>[] = []
    for (const s of steps) {
      if (s.kind === 'advance') now += s.ms
      else if (s.kind === 'change') { gen++; changedAt.push(now) }
      else if (s.kind === 'settle') { await Promise.all(pending); await tick(); await tick() }
      else if (s.kind === 'microtasks') { for (let i = 0; i < 5; i++) await Promise.resolve() }
      else {
        const asked = now
        pending.push(answers.get(`k${s.ms % 2}`, build).then(({ answer, how }) => {
          // Every change made at or before (asked − bound) is in the answer.
          for (let g = 1; g <= changedAt.length; g++) {
            if (changedAt[g - 1]! < asked - bound && answer.generation < g) throw new Error(`missed generation ${g} changed at ${changedAt[g - 1]} asked ${asked} bound ${bound} (${how})`)
          }
          if (how === 'stale' && !(asked - answer.asOfMs <= bound)) throw new Error('stale beyond the bound')
        }))
      }
    }
    await Promise.all(pending)
  }), { numRuns: 1000 })
  t.pass('property held')
})

function model(edges: number, hosts: number): TopologyModel {
  const m = new TopologyModel()
  for (let h = 0; h < hosts; h++) {
    const ip = h < hosts / 2 ? `10.0.${h >> 8}.${h & 255}` : `192.168.${h >> 8}.${h & 255}`
    const rec: HostRecord = { id: ip, scope: '', ips: [ip], macs: [], names: [], services: [], os_hints: [], software: [], first_seen_us: 1, last_seen_us: 2, agents: ['a1'], flows_out: 0, flows_in: 0, bytes_out: 0, bytes_in: 0 }
    m.loadHost(rec)
  }
  const ids = [...m.hosts.keys()]
  for (let i = 0; i < edges; i++) {
    const src = ids[(i * 7) % ids.length]!
    const dst = ids[(i * 13 + 1) % ids.length]!
    const port = [22, 53, 80, 443][i % 4]!
    const e: EdgeRecord = {
      id: edgeId(src, dst, 'tcp', port + i), src, dst, proto: 'tcp', port: port + i, services: [['ssh', 'dns', 'http', 'ssl'][i % 4]!], flows: 1 + (i % 5),
      bytes: (i * 7919) % 100_000, packets: 3, first_seen_us: 1_000 + i, last_seen_us: 2_000 + i, agents: [i % 3 === 0 ? 'a2' : 'a1'], duplicate_flows: 0, degraded_flows: i % 11 === 0 ? 1 : 0,
    }
    m.loadEdge(e)
  }
  m.addLoss({ agentId: 'a2', fromUs: 1500, toUs: 1600, reason: 'capture_drops', records: 5 })
  return m
}

t.test('sliced build = synchronous selection, for every filter, JSON and GraphML', async (t) => {
  const m = model(5000, 600)
  const queries: TopologyQuery[] = [
    { fromUs: 0, toUs: Number.MAX_SAFE_INTEGER, minBytes: 0, limit: 1000 },
    { fromUs: 0, toUs: Number.MAX_SAFE_INTEGER, minBytes: 50_000, limit: 100, cidr: '10.0.0.0/16' },
    { fromUs: 3000, toUs: 4000, minBytes: 0, limit: 10_000, service: 'ssh' },
    { fromUs: 0, toUs: Number.MAX_SAFE_INTEGER, minBytes: 10, limit: 7, agent: 'a2' },
    { fromUs: 0, toUs: 1, minBytes: 0, limit: 10 },
  ]
  for (const q of queries) {
    const slicer = new Slicer(0) // yield at every check
    const a = await buildTopologyAnswer(m, () => q, 'json', () => ({ generation: 5, asOfMs: 123 }), () => 0, slicer)
    const body = JSON.parse(a.body.toString('utf8')) as Record<string, unknown>
    t.equal(body.generation, 5); t.equal(body.as_of_us, 123_000)
    delete body.generation; delete body.as_of_us
    t.same(body, JSON.parse(JSON.stringify(selectTopology(m, q))), `same answer for ${JSON.stringify(q)}`)
    if (q.limit === 1000) t.ok(slicer.slices > 5, 'it did yield')
  }
  const g = await buildTopologyAnswer(m, () => queries[1]!, 'graphml', () => ({ generation: 1, asOfMs: 1 }), () => 0, new Slicer(0))
  t.match(g.body.toString('utf8'), /^<\?xml[\s\S]*<\/graphml>\n$/)
  t.equal(g.type, 'application/graphml+xml; charset=utf-8')
})

t.test('a model reset during a sliced build restarts it (no mixed answer)', async (t) => {
  const m = model(5000, 600)
  let resets = 0
  const q: TopologyQuery = { fromUs: 0, toUs: Number.MAX_SAFE_INTEGER, minBytes: 0, limit: 100_000 }
  const p = buildTopologyAnswer(m, () => q, 'json', () => ({ generation: resets, asOfMs: 0 }), () => resets, new Slicer(0))
  await tick()
  const small = model(40, 20)
  m.clear(); resets++
  for (const h of small.hosts.values()) m.loadHost(h)
  for (const e of small.edges.values()) m.loadEdge(e)
  const body = JSON.parse((await p).body.toString('utf8')) as { edges: unknown[]; total_edges: number; generation: number }
  t.equal(body.total_edges, 40); t.equal(body.edges.length, 40); t.equal(body.generation, 1)
})

t.test('route: stale within the bound (headers say so), current with bound 0, bad cidr still 400', async (t) => {
  const auth = { authorization: `Bearer ${ADMIN}` }
  const lazy = await startCollector({ 'topology.answer_max_staleness_ms': 600_000, 'topology.answer_refresh_ms': 600_000 })
  t.teardown(() => lazy.close())
  const a = await enrollAgent(lazy, 1)
  t.equal((await post(lazy, a.secret, encodeBatch(batch(a.agentId, 1, 50)))).statusCode, 200)
  const r1 = await lazy.app.inject({ method: 'GET', url: '/api/v1/topology', headers: auth })
  t.equal(r1.headers['x-topology-current'], 'true')
  const b1 = r1.json() as { edges: unknown[]; generation: number; as_of_us: number }
  t.equal(String(b1.generation), r1.headers['x-topology-generation'])
  t.ok(b1.as_of_us > 0)
  t.equal((await post(lazy, a.secret, encodeBatch(batch(a.agentId, 2, 50)))).statusCode, 200)
  await lazy.api.topology.settle() // merged: the cached answer is now behind the model
  const r2 = await lazy.app.inject({ method: 'GET', url: '/api/v1/topology', headers: auth })
  t.equal(r2.headers['x-topology-current'], 'false', 'stale answer within the bound')
  t.equal(r2.headers['x-topology-generation'], r1.headers['x-topology-generation'])
  t.equal(r2.body, r1.body)
  t.ok(Number(r2.headers['x-topology-age-ms']) >= 0)
  const other = await lazy.app.inject({ method: 'GET', url: '/api/v1/topology?limit=100000', headers: auth })
  t.equal((other.json() as { edges: unknown[] }).edges.length, b1.edges.length * 2, 'a new query string is built from the current topology')
  t.equal((await lazy.app.inject({ method: 'GET', url: '/api/v1/topology?cidr=300.1.1.1/8', headers: auth })).statusCode, 400)
  const metrics = (await lazy.app.inject({ method: 'GET', url: '/metrics', headers: auth })).body
  t.match(metrics, /telltale_topology\{what="answers_stale"\} 1\n/)
  t.match(metrics, /telltale_topology\{what="builds"\} 2\n/)

  const eager = await startCollector({ 'topology.answer_max_staleness_ms': 0 })
  t.teardown(() => eager.close())
  const e = await enrollAgent(eager, 1)
  t.equal((await post(eager, e.secret, encodeBatch(batch(e.agentId, 1, 50)))).statusCode, 200)
  const n1 = (await eager.app.inject({ method: 'GET', url: '/api/v1/topology?limit=100000', headers: auth })).json() as { edges: unknown[] }
  t.equal((await post(eager, e.secret, encodeBatch(batch(e.agentId, 2, 50)))).statusCode, 200)
  const r3 = await eager.app.inject({ method: 'GET', url: '/api/v1/topology?limit=100000', headers: auth })
  t.equal(r3.headers['x-topology-current'], 'true')
  t.equal((r3.json() as { edges: unknown[] }).edges.length, n1.edges.length * 2, 'bound 0: the change is in the next answer')
})
