// Topology merge: the same traffic shipped by two agents counts once; a host that changes
// address via DHCP stays one host; loss reported by an agent lowers confidence; rebuild
// from stored flows gives the same topology.
import t from 'tap'
import { encodeBatch, PROTOCOL_VERSION, type FlowProperties, type HostObservationProperties } from '../protocol/index.js'
import { ADMIN, batch, enrollAgent, post, startCollector, topologyTotals } from './collector-fixtures.js'

const auth = { authorization: `Bearer ${ADMIN}` }

const counts = topologyTotals

t.test('the same capture from two agents gives the same hosts and edges as from one', async (t) => {
  const one = await startCollector()
  const two = await startCollector()
  t.teardown(async () => { await one.close(); await two.close() })
  const a1 = await enrollAgent(one, 1)
  for (let s = 1; s <= 3; s++) t.equal((await post(one, a1.secret, encodeBatch(batch(a1.agentId, s, 200)))).statusCode, 200)
  const b1 = await enrollAgent(two, 1)
  const b2 = await enrollAgent(two, 2)
  for (let s = 1; s <= 3; s++) {
    t.equal((await post(two, b1.secret, encodeBatch(batch(b1.agentId, s, 200)))).statusCode, 200)
    // The second sensor's clock is 300 ms behind and it missed some bytes on one flow: same flows.
    const b = batch(b2.agentId, s, 200)
    for (const f of b.flows as FlowProperties[]) f.tsUs = (f.tsUs as number) - 300_000
    ;(b.flows as FlowProperties[])[0]!.missedBytes = 100
    t.equal((await post(two, b2.secret, encodeBatch(b))).statusCode, 200)
  }
  const c1 = await counts(one)
  const c2 = await counts(two)
  t.equal(c1.unique, 600)
  t.same(c2, c1, 'hosts, edges, unique flows and bytes are equal')
  const stored = (await two.app.inject({ method: 'GET', url: '/api/v1/stats', headers: auth })).json() as { flows: number }
  t.equal(stored.flows, 1200, 'both records are stored')
  const topo = (await two.app.inject({ method: 'GET', url: '/api/v1/topology?limit=1', headers: auth })).json() as { edges: { agents: string[]; duplicate_flows: number }[] }
  t.equal(topo.edges[0]!.agents.length, 2, 'the other observer is noted')
  t.ok(topo.edges[0]!.duplicate_flows > 0)
})

function dhcp(ip: number[], mac: number[], tsUs: number, name: string): HostObservationProperties {
  return { tsUs, ip: Buffer.from(ip), mac: Buffer.from(mac), name, nameSource: 1 }
}

function flowFrom(src: number[], i: number, tsUs: number): FlowProperties {
  return {
    tsUs, origH: Buffer.from(src), respH: Buffer.from([192, 0, 2, 10]), origP: 40000 + i, respP: 443, proto: 1, connState: 3, history: 'ShADadFf',
    durationUs: 1000, origPkts: 5, origIpBytes: 400, respPkts: 5, respIpBytes: 4000, uid: `Cx${i}`, ipProto: 6, service: 'ssl', communityIdDerived: true,
  }
}

t.test('a DNS answer names an address without making it a host; the name waits for one', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const t0 = 1_700_000_000_000_000
  const dnsA = (ip: number[], name: string, tsUs: number): HostObservationProperties => ({ tsUs, ip: Buffer.from(ip), name, nameSource: 3 })
  const send = async (seq: number, b: Record<string, unknown>) =>
    t.equal((await post(c, a.secret, encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: a.agentId, epoch: 1, seq, sentAtUs: t0, ...b }))).statusCode, 200)
  await send(1, { hostObservations: [dnsA([10, 0, 0, 60], 'nas.example', t0), dnsA([10, 0, 0, 61], 'never.example', t0)] })
  t.equal((await counts(c)).hosts, 0, 'answers alone make no hosts')
  await send(2, { flows: [flowFrom([10, 0, 0, 60], 1, t0 + 1000)] })
  t.equal((await counts(c)).hosts, 2, 'the flow brings the host (and its server)')
  const get = async () => ((await c.app.inject({ method: 'GET', url: '/api/v1/hosts/10.0.0.60', headers: auth })).json() as { host: { names: { name: string; source: string }[]; last_seen_us: number } }).host
  t.same((await get()).names, [{ name: 'nas.example', source: 'dns_a' }], 'the held name is given to it')
  const seen = (await get()).last_seen_us
  await send(3, { hostObservations: [dnsA([10, 0, 0, 60], 'nas2.example', t0 + 36_000_000_000)] })
  const h = await get()
  t.same(h.names.map((n) => n.name), ['nas.example', 'nas2.example'], 'a later answer adds a name to the known host')
  t.equal(h.last_seen_us, seen, 'without moving its last seen (the answer is not a sighting)')
  const never = (await c.app.inject({ method: 'GET', url: '/api/v1/hosts?name=never.example', headers: auth })).json() as { hosts: unknown[] }
  t.equal(never.hosts.length, 0, 'an address only named by DNS is not in the inventory')
})

t.test('a host changing IP via DHCP stays one host', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const mac = [0x00, 0x1b, 0x21, 1, 2, 3]
  const t0 = 1_700_000_000_000_000
  const mk = (seq: number, ip: number[], ts: number) => ({
    protocolVersion: PROTOCOL_VERSION, agentId: a.agentId, epoch: 1, seq, sentAtUs: ts,
    hostObservations: [dhcp(ip, mac, ts, 'laptop-7')], flows: [flowFrom(ip, seq, ts + 1000), flowFrom(ip, seq + 100, ts + 2000)],
  })
  t.equal((await post(c, a.secret, encodeBatch(mk(1, [10, 0, 0, 50], t0)))).statusCode, 200)
  t.equal((await post(c, a.secret, encodeBatch(mk(2, [10, 0, 0, 77], t0 + 3_600_000_000)))).statusCode, 200)
  const n = await counts(c)
  t.equal(n.hosts, 2, 'the laptop and the server')
  t.equal(n.edges, 1, 'one edge laptop → server:443')
  const h = (await c.app.inject({ method: 'GET', url: '/api/v1/hosts/10.0.0.77', headers: auth })).json() as { host: { id: string; ips: string[]; macs: string[]; names: { name: string }[]; vendor?: string; flows_out: number }; peers: unknown[]; alerts: unknown[] }
  t.same(h.host.ips, ['10.0.0.50', '10.0.0.77'])
  t.same(h.host.macs, ['00:1b:21:01:02:03'])
  t.equal(h.host.names[0]!.name, 'laptop-7')
  t.equal(h.host.flows_out, 4)
  t.equal(h.peers.length, 1)
  t.same(h.alerts, [])
  const byMac = await c.app.inject({ method: 'GET', url: '/api/v1/hosts/00:1b:21:01:02:03', headers: auth })
  t.equal((byMac.json() as { host: { id: string } }).host.id, h.host.id, 'found by MAC too')
  // A flow seen before the lease: the address-only host is merged when DHCP names its MAC.
  const c2 = await startCollector()
  t.teardown(() => c2.close())
  const a2 = await enrollAgent(c2, 1)
  await post(c2, a2.secret, encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: a2.agentId, epoch: 1, seq: 1, flows: [flowFrom([10, 0, 0, 9], 1, t0)] }))
  await post(c2, a2.secret, encodeBatch({ ...mk(2, [10, 0, 0, 9], t0 + 10_000_000), agentId: a2.agentId }))
  await post(c2, a2.secret, encodeBatch({ ...mk(3, [10, 0, 0, 10], t0 + 20_000_000), agentId: a2.agentId }))
  const n2 = await counts(c2)
  t.equal(n2.hosts, 2)
  t.equal(n2.edges, 1)
})

t.test('loss reported by an agent lowers edge confidence; rebuild reproduces the topology', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const b = batch(a.agentId, 1, 100)
  const t0 = (b.flows as FlowProperties[])[0]!.tsUs as number
  b.gaps = [{ kind: 1, count: 42, firstTsUs: t0, lastTsUs: t0 + 10_000, reason: 1 }]
  t.equal((await post(c, a.secret, encodeBatch(b))).statusCode, 200)
  t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, 2, 100)))).statusCode, 200)
  await c.api.topology.settle()
  const topo = (await c.app.inject({ method: 'GET', url: '/api/v1/topology?limit=100000', headers: auth })).json() as { edges: { confidence: string; id: string; bytes: number }[]; coverage: { complete: boolean; loss_periods: { records: number }[] } }
  t.equal(topo.coverage.complete, false)
  t.equal(topo.coverage.loss_periods[0]!.records, 42)
  t.ok(topo.edges.some((e) => e.confidence === 'reduced'))
  t.ok(topo.edges.some((e) => e.confidence === 'high'))
  const before = await counts(c)
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/topology/rebuild', headers: auth })
  t.equal(r.statusCode, 200)
  t.same(await counts(c), before, 'same counts after a rebuild from stored flows')
  const audit = (await c.app.inject({ method: 'GET', url: '/api/v1/audit', headers: auth })).json() as { entries: { action: string }[] }
  t.ok(audit.entries.some((e) => e.action === 'topology.rebuild'))
})

t.test('topology survives a restart (flushed state + replay after the watermark)', async (t) => {
  const c = await startCollector({}, (await import('node:fs')).mkdtempSync('/tmp/telltale-topo-restart-'))
  const a = await enrollAgent(c, 1)
  await post(c, a.secret, encodeBatch(batch(a.agentId, 1, 150)))
  const before = await counts(c)
  await c.close()
  const again = await startCollector({}, c.dir)
  t.teardown(async () => { await again.close(); (await import('node:fs')).rmSync(c.dir, { recursive: true, force: true }) })
  const after = await counts(again)
  t.same({ ...after, unique: 0 }, { ...before, unique: 0 })
})
